-- Outcomes: what happened to each send (deliveries) and what the customer or provider did next (responses).
-- Both are append-only and grow without bound; they are ready to be partitioned by time.

CREATE TABLE deliveries (
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    job_id              bigint NOT NULL,
    idempotency_key     text NOT NULL,
    campaign_id         bigint,
    customer_id         bigint NOT NULL,
    channel             text NOT NULL,
    outcome             text NOT NULL CHECK (outcome IN ('sent', 'failed', 'suppressed', 'cancelled', 'discarded', 'holdout')),
    reason              text,                -- why not sent: no_consent, capped, quiet_hours, expired, render_failed...
    attempts            integer NOT NULL DEFAULT 0,
    errors              jsonb NOT NULL DEFAULT '[]'::jsonb,  -- every attempt's error, oldest first
    provider_message_id text,
    variant             text,
    finished_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, finished_at)
);
CREATE INDEX deliveries_key ON deliveries (idempotency_key);
CREATE INDEX deliveries_customer ON deliveries (customer_id, finished_at);
CREATE INDEX deliveries_campaign ON deliveries (campaign_id, finished_at);

CREATE TABLE responses (
    id                bigint GENERATED ALWAYS AS IDENTITY,
    idempotency_key   text,                  -- the send it answers, when known
    customer_id       bigint,
    campaign_id       bigint,
    kind              text NOT NULL,         -- delivered, open, click, bounce, complaint, unsubscribe, conversion
    provider_event_id text,                  -- dedupes provider webhooks
    data              jsonb NOT NULL DEFAULT '{}'::jsonb,
    occurred_at       timestamptz NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, received_at)
);
CREATE INDEX responses_key ON responses (idempotency_key);
CREATE INDEX responses_customer ON responses (customer_id, occurred_at);
