-- The three append-only tables that grow without bound become tables partitioned by month, so that retention is
-- a DROP of whole partitions (instant, no vacuum debt) instead of a DELETE of old rows, and queries over recent
-- times read only recent partitions:
--   deliveries by finished_at, responses by occurred_at, events by occurred_at.
-- Months are UTC calendar months, named <table>_pYYYY_MM. Each table also gets a DEFAULT partition, <table>_default,
-- for rows outside every month that has a partition (old imported history, events stored far ahead); `ciclo
-- maintenance` creates the coming months, moving the rows the DEFAULT partition holds for them, and drops the
-- months older than the retention setting (CicloMaintenance).
--
-- A database that already has rows keeps them: each table is renamed, the partitioned table is created with the
-- same columns and defaults, the rows are copied with their ids, the identity sequence continues from where the
-- old one stood, the old table is dropped, and then the keys, foreign keys and indexes are built (after the copy,
-- so the copy does not maintain them row by row).
--
-- A unique key on a partitioned table must contain the partition key, so:
--   deliveries' primary key stays (id, finished_at); responses' becomes (id, occurred_at) (it was
--   (id, received_at)); events' becomes (id, occurred_at) (it was (id)); events' unique source_id becomes
--   (source_id, occurred_at), which is the importer's conflict target (CicloImport/EventImporter.swift). A derived
--   source id hashes the occurred_at anyway; a source's own id is one event at one time.
-- Nothing references these tables by foreign key, so no key elsewhere has to change.

-- Fills the partitioned table `parent` from `parent`_unpartitioned and drops the old table: a DEFAULT partition, a
-- partition per month from the oldest row (at most 36 months back) to 3 months ahead of now, every row copied with
-- its id (the columns were created in the old table's order), and the identity sequence set to where the old one
-- stood, so no id is ever handed out twice. A temporary function: it lives only as long as this migration's session.
CREATE FUNCTION pg_temp.ciclo_fill_partitions(parent text, key text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    old text := parent || '_unpartitioned';
    this_month timestamp := date_trunc('month', now() AT TIME ZONE 'UTC');
    oldest timestamptz;
    month timestamp;
BEGIN
    EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', parent || '_default', parent);
    EXECUTE format('SELECT min(%I) FROM %I', key, old) INTO oldest;
    FOR month IN
        SELECT generate_series(
            greatest(least(date_trunc('month', coalesce(oldest, now()) AT TIME ZONE 'UTC'), this_month),
                     this_month - interval '36 months'),
            this_month + interval '3 months', interval '1 month')
    LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       parent || '_p' || to_char(month, 'YYYY_MM'), parent,
                       month AT TIME ZONE 'UTC', (month + interval '1 month') AT TIME ZONE 'UTC');
    END LOOP;
    EXECUTE format('INSERT INTO %I OVERRIDING SYSTEM VALUE SELECT * FROM %I', parent, old);
    EXECUTE format('SELECT setval(%L, last_value, is_called) FROM %I', parent || '_id_seq', old || '_id_seq');
    EXECUTE format('DROP TABLE %I', old);
END;
$$;

-- deliveries -------------------------------------------------------------------------------------------------------

ALTER TABLE deliveries RENAME TO deliveries_unpartitioned;
ALTER SEQUENCE deliveries_id_seq RENAME TO deliveries_unpartitioned_id_seq;

CREATE TABLE deliveries (
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    job_id              bigint NOT NULL,
    idempotency_key     text NOT NULL,
    campaign_id         bigint,
    customer_id         bigint NOT NULL,
    channel             text NOT NULL,
    outcome             text NOT NULL CHECK (outcome IN ('sent', 'failed', 'suppressed', 'cancelled', 'discarded', 'holdout')),
    reason              text,
    attempts            integer NOT NULL DEFAULT 0,
    errors              jsonb NOT NULL DEFAULT '[]'::jsonb,
    provider_message_id text,
    variant             text,
    finished_at         timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (finished_at);
SELECT pg_temp.ciclo_fill_partitions('deliveries', 'finished_at');

ALTER TABLE deliveries ADD PRIMARY KEY (id, finished_at);
CREATE INDEX deliveries_key ON deliveries (idempotency_key);
CREATE INDEX deliveries_customer ON deliveries (customer_id, finished_at);
CREATE INDEX deliveries_campaign ON deliveries (campaign_id, finished_at);
CREATE INDEX deliveries_finished ON deliveries (finished_at);

-- responses --------------------------------------------------------------------------------------------------------

ALTER TABLE responses RENAME TO responses_unpartitioned;
ALTER SEQUENCE responses_id_seq RENAME TO responses_unpartitioned_id_seq;

CREATE TABLE responses (
    id                bigint GENERATED ALWAYS AS IDENTITY,
    idempotency_key   text,
    customer_id       bigint,
    campaign_id       bigint,
    kind              text NOT NULL,
    provider_event_id text,
    data              jsonb NOT NULL DEFAULT '{}'::jsonb,
    occurred_at       timestamptz NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (occurred_at);
SELECT pg_temp.ciclo_fill_partitions('responses', 'occurred_at');

ALTER TABLE responses ADD PRIMARY KEY (id, occurred_at);
CREATE INDEX responses_key ON responses (idempotency_key);
CREATE INDEX responses_customer ON responses (customer_id, occurred_at);

-- events -----------------------------------------------------------------------------------------------------------

ALTER TABLE events RENAME TO events_unpartitioned;
ALTER SEQUENCE events_id_seq RENAME TO events_unpartitioned_id_seq;

CREATE TABLE events (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    customer_id bigint NOT NULL,
    kind        text NOT NULL,
    payload     jsonb NOT NULL DEFAULT '{}'::jsonb,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    source_id   text
) PARTITION BY RANGE (occurred_at);
SELECT pg_temp.ciclo_fill_partitions('events', 'occurred_at');

-- The scheduler's event cursors read events by id (Tick.swift): each partition's primary key index serves them.
ALTER TABLE events ADD PRIMARY KEY (id, occurred_at);
ALTER TABLE events ADD CONSTRAINT events_customer_id_fkey
    FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE;
CREATE INDEX events_customer_kind_time ON events (customer_id, kind, occurred_at);
CREATE INDEX events_kind_received ON events (kind, received_at);
CREATE UNIQUE INDEX events_source_id ON events (source_id, occurred_at);
CREATE INDEX events_received_brin ON events USING brin (received_at);
CREATE INDEX events_occurred_brin ON events USING brin (occurred_at);

-- The copies are new tables without statistics; the planner needs them before the first query.
ANALYZE deliveries;
ANALYZE responses;
ANALYZE events;

DROP FUNCTION pg_temp.ciclo_fill_partitions(text, text);
