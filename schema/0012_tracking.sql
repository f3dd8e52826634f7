-- What the reporter records from the tracking endpoints (open pixel, click redirect, unsubscribe) and from
-- provider webhooks. This is the contract between the reporter's HTTP side, which writes responses, and its
-- aggregation, which folds them into rollups.

-- responses.kind, one per outcome: bounces are hard or soft because they act differently (a hard bounce
-- suppresses at once, soft bounces only past a threshold). Conversions are not responses: they are events,
-- attributed to sends by the reporter.
ALTER TABLE responses
    ADD COLUMN channel  text,
    -- An open or click from a machine (a mail privacy proxy, a link scanner clicking seconds after delivery):
    -- kept, but reported apart so it never inflates the open rate or CTR.
    ADD COLUMN machine  boolean NOT NULL DEFAULT false,
    ADD COLUMN provider text,                -- which provider's webhook reported it; NULL for our own endpoints
    ADD CONSTRAINT responses_kind CHECK (kind IN
        ('delivered', 'open', 'click', 'bounce_hard', 'bounce_soft', 'complaint', 'failed', 'unsubscribe'));

-- Provider webhooks are delivered at least once: an event id seen before is acknowledged and not stored again.
-- A table of its own, because responses will be partitioned by time and a unique key there would have to carry
-- the partition key.
CREATE TABLE provider_events (
    provider    text NOT NULL,
    event_id    text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);
