-- Customers, their consent per channel, suppressions, and the events they produce.
-- Stages, personas and channels are data (text), not enums: a deployment defines its own.

CREATE TABLE customers (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id  text NOT NULL UNIQUE,
    email        text,
    phone        text,          -- E.164 once normalised
    push_token   text,
    locale       text NOT NULL DEFAULT 'en',
    timezone     text NOT NULL DEFAULT 'UTC',  -- IANA zone name: quiet hours are computed in it
    stage        text,
    persona      text,
    attributes   jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz,
    CONSTRAINT customers_attributes_object CHECK (jsonb_typeof(attributes) = 'object')
);
-- Segments select by stage and persona first.
CREATE INDEX customers_stage_persona ON customers (stage, persona);

-- Consent is per customer and channel; no row means no consent.
CREATE TABLE consents (
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    channel     text NOT NULL,
    granted     boolean NOT NULL,
    source      text,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, channel)
);

-- A suppression overrides consent: unsubscribed, hard bounce, complaint. Kept with its reason for audits.
CREATE TABLE suppressions (
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    channel     text NOT NULL,
    reason      text NOT NULL CHECK (reason IN ('unsubscribed', 'hard_bounce', 'complaint', 'soft_bounces', 'manual')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, channel)
);

-- What customers do. Append-only; large deployments partition it by occurred_at.
CREATE TABLE events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    kind        text NOT NULL,
    payload     jsonb NOT NULL DEFAULT '{}'::jsonb,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
-- Triggers and windows ("purchases in the last 30 days") read one customer's events of a kind by time.
CREATE INDEX events_customer_kind_time ON events (customer_id, kind, occurred_at);
-- The scheduler reads new events of a kind in arrival order.
CREATE INDEX events_kind_received ON events (kind, received_at);
