-- Scheduling: campaigns as code, the contact policy (frequency caps, quiet hours, the global holdout), the
-- scheduler's decision log, its event cursors and its leader lock, and what importers and segments need of
-- customers.

-- Product preferences are a first-class segment field (`product: {any: [...]}`), so they get a column and a GIN
-- index instead of hiding in attributes.
ALTER TABLE customers ADD COLUMN product_preferences text[] NOT NULL DEFAULT '{}';
CREATE INDEX customers_products ON customers USING gin (product_preferences);
CREATE INDEX customers_attributes ON customers USING gin (attributes jsonb_path_ops);

-- Quiet hours are computed in the customer's zone on every pass; an unknown zone name would abort a whole pass, so
-- it is refused when it is stored. (AT TIME ZONE raises "time zone ... not recognized" for it.)
ALTER TABLE customers ADD CONSTRAINT customers_timezone_known
    CHECK ((timestamptz '2000-01-01 00:00:00+00' AT TIME ZONE timezone) IS NOT NULL);

-- Campaign fields the scheduler reads on every pass; the rest of the file stays in definition.
ALTER TABLE campaigns
    ADD COLUMN salt text,                          -- holdout hashing, fixed when first applied; null: the key
    ADD COLUMN offer_family text,                  -- cooldowns hold across a family; null means the campaign alone
    ADD COLUMN transactional boolean NOT NULL DEFAULT false,  -- skips caps, quiet hours and holdouts
    ADD COLUMN source_sha256 text,                 -- of the applied file, so `apply` of the same file is a no-op
    ADD COLUMN next_run_at timestamptz,            -- recurring: the next schedule slot to evaluate
    ADD COLUMN last_run_at timestamptz,
    ADD COLUMN launches integer NOT NULL DEFAULT 0,  -- ad hoc: how many times it was launched (the occasion)
    ADD COLUMN launched_at timestamptz;             -- ad hoc: the last launch; the scheduler enqueues it once

-- A job may stop being relevant (a trigger's window, an ad hoc campaign's expiry): past expires_at the claim
-- records it as suppressed with reason 'expired' instead of delivering it.
ALTER TABLE send_jobs ADD COLUMN expires_at timestamptz;

-- The contact policy per channel: at most max_sends marketing messages per per_days days across all campaigns,
-- and no marketing delivery inside quiet hours in the customer's own timezone (start > end wraps midnight).
CREATE TABLE contact_policy (
    channel     text PRIMARY KEY,
    max_sends   integer CHECK (max_sends > 0),
    per_days    integer CHECK (per_days > 0),
    quiet_start time,
    quiet_end   time,
    CONSTRAINT contact_policy_cap CHECK ((max_sends IS NULL) = (per_days IS NULL)),
    CONSTRAINT contact_policy_quiet CHECK ((quiet_start IS NULL) = (quiet_end IS NULL) AND
                                           (quiet_start IS NULL OR quiet_start <> quiet_end))
);

-- Deployment-wide settings as small JSON values: global_holdout {"share": 0.05, "salt": "..."}, lead score
-- thresholds, and so on. Read by the scheduler at the start of every pass.
CREATE TABLE settings (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The scheduler's decision log: one row per campaign, customer and occasion, written by the same set-based
-- statement that enqueues. The occasion is the customer's cycle number for recurring campaigns, the event id for
-- trigger and experience campaigns, and the launch number for ad hoc ones, so a repeated or concurrent pass over
-- the same occasion conflicts on the primary key and never enqueues twice.
--   outcome: queued (a job was enqueued; reason 'quiet_hours' when deferred), holdout, global_holdout,
--            no_consent, suppressed (reason: the suppression's), cooldown, capped, expired.
-- An excluded occasion may later be decided again (consent granted, cap freed); queued and holdout are final.
-- "Why did customer X not get campaign Y?" is one query on this table.
CREATE TABLE send_decisions (
    campaign_id     bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    customer_id     bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    occasion        bigint NOT NULL,
    channel         text NOT NULL,
    outcome         text NOT NULL CHECK (outcome IN ('queued', 'holdout', 'global_holdout', 'no_consent',
                                                     'suppressed', 'cooldown', 'capped', 'expired')),
    reason          text,
    variant         text,         -- chosen for queued and holdout; for exclusions, the last variant sent (rotation)
    offer_family    text NOT NULL, -- the campaign's family, or its key: cooldowns look here
    marketing       boolean NOT NULL,
    due_at          timestamptz NOT NULL,  -- when it is (or would have been) delivered, after quiet hours
    expires_at      timestamptz,  -- past this the send is no longer relevant (trigger window, ad hoc expiry)
    decided_at      timestamptz NOT NULL,  -- the scheduler's clock (simulated in dry runs)
    idempotency_key text,         -- queued and holdout: the send's key (holdout: the would-have-received key)
    PRIMARY KEY (campaign_id, customer_id, occasion)
) WITH (fillfactor = 90);
-- The frequency cap counts a customer's queued marketing sends per channel by due time.
CREATE INDEX send_decisions_cap ON send_decisions (customer_id, channel, due_at)
    WHERE outcome = 'queued' AND marketing;
-- Cooldowns look for the customer's last send (or holdout: would-have-received counts the same) in the family.
CREATE INDEX send_decisions_cooldown ON send_decisions (offer_family, customer_id, due_at)
    WHERE outcome IN ('queued', 'holdout', 'global_holdout');

-- Where trigger and experience campaigns are in the event stream: the highest event id fully processed.
CREATE TABLE scheduler_cursors (
    campaign_id   bigint PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    last_event_id bigint NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The attribute catalogue: the customer attributes a deployment declares, with their types. Segments may only
-- name declared attributes, and compare them as their type.
CREATE TABLE customer_attributes (
    name text PRIMARY KEY,
    type text NOT NULL CHECK (type IN ('text', 'number', 'boolean', 'date', 'list'))
);

-- Named segments, stored as the segment language's canonical JSON (never SQL), shared by campaigns.
CREATE TABLE segments (
    name       text PRIMARY KEY,
    definition jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
