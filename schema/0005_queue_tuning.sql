-- The send queue, tuned for heavy churn: every job is inserted, updated once or twice and deleted within seconds.

-- Every attempt's error, oldest first, kept with a failed job until an operator retries or discards it.
ALTER TABLE send_jobs ADD COLUMN errors jsonb NOT NULL DEFAULT '[]'::jsonb;

-- fillfactor 70 leaves room on each page, so a heartbeat (which only moves lease_expires_at, a column no index
-- holds) is a HOT update: no new index entries, and the page is pruned without waiting for vacuum.
-- Autovacuum at 1% of the table (plus 500 rows) instead of 20%: the live set is small but dead rows pile up
-- fast, and the claim walks the index past each dead entry until vacuum removes it. No cost delay, because a
-- small table vacuums in milliseconds and a throttled one falls behind under churn.
ALTER TABLE send_jobs SET (
    fillfactor = 70,
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 500,
    autovacuum_vacuum_insert_scale_factor = 0.05,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_cost_delay = 0
);

-- The claim reads due jobs in (priority DESC, run_at, id) order and stops after a batch. The index is partial
-- (only due jobs: running and failed ones never appear in the walk) and carries channel and campaign_id, the
-- claim's optional filters, so planning and filtering need nothing else.
DROP INDEX send_jobs_claim;
CREATE INDEX send_jobs_claim ON send_jobs (priority DESC, run_at, id) INCLUDE (channel, campaign_id)
    WHERE state = 'due';

-- The reaper and heartbeats look at running jobs only. Keyed by id, not by lease_expires_at, so that extending
-- a lease does not touch any index (and stays HOT, see fillfactor above); running jobs are few.
DROP INDEX send_jobs_lease_expiry;
CREATE INDEX send_jobs_running ON send_jobs (id) WHERE state = 'running';

-- Operators list and retry failed jobs by campaign and channel.
CREATE INDEX send_jobs_failed ON send_jobs (campaign_id, channel) WHERE state = 'failed';

-- Idle workers wake on NOTIFY. A statement-level trigger sends one notification per INSERT statement, and
-- PostgreSQL folds identical notifications within a transaction, so a bulk enqueue wakes workers once, never
-- once per row. Jobs scheduled for later notify nobody: the workers' timed wait covers them.
CREATE FUNCTION send_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_jobs WHERE state = 'due' AND run_at <= now()) THEN
        PERFORM pg_notify('ciclo_send_jobs', '');
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER send_jobs_notify AFTER INSERT ON send_jobs
    REFERENCING NEW TABLE AS new_jobs FOR EACH STATEMENT EXECUTE FUNCTION send_jobs_notify();

-- History of finished jobs: one row per logical send that reached an end (sent, suppressed, cancelled,
-- discarded). Append-only; its primary key includes finished_at so it can become a table partitioned by time.
-- Completions are written in the same statement that deletes the job, so at most one row exists per job.
CREATE INDEX deliveries_finished ON deliveries (finished_at);

-- When a job last ended up failed, for `ciclo retry --since` and the depth report's failures per minute.
ALTER TABLE send_jobs ADD COLUMN failed_at timestamptz;

-- Every idempotency key ever enqueued, unique for good. A finished job leaves send_jobs, so send_jobs' own unique
-- constraint alone would let the same logical send be enqueued again after it completed; enqueueing registers the
-- key here first and inserts only the jobs whose key was new. (Hash-partition it by key when it grows large.)
CREATE TABLE send_keys (
    idempotency_key text PRIMARY KEY,
    created_at      timestamptz NOT NULL DEFAULT now()
);
