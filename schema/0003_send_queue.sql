-- The send queue. One row per logical send while it is pending or in flight; finished jobs leave this table
-- (their history is in deliveries), so the table the workers hammer stays small.

CREATE TABLE send_jobs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id      bigint REFERENCES campaigns (id),
    customer_id      bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    channel          text NOT NULL,
    -- One logical send, one key: unique here and in deliveries, and handed to the provider.
    idempotency_key  text NOT NULL UNIQUE,
    priority         smallint NOT NULL DEFAULT 0,
    run_at           timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
    state            text NOT NULL DEFAULT 'due' CHECK (state IN ('due', 'running', 'failed')),
    lease_owner      text,
    lease_expires_at timestamptz,
    last_error       text,
    payload          jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT send_jobs_lease CHECK ((state = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
);
-- Serves the claim: due jobs by priority, then run_at, only the rows that can be claimed.
CREATE INDEX send_jobs_claim ON send_jobs (priority DESC, run_at, id) WHERE state = 'due';
-- Serves the reaper: running jobs by lease expiry.
CREATE INDEX send_jobs_lease_expiry ON send_jobs (lease_expires_at) WHERE state = 'running';
