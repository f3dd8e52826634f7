-- The reporter's aggregation: rollups by campaign × variant × channel × lifecycle stage × day, folded
-- incrementally from the raw outcomes (deliveries, responses, conversion events, holdout decisions) behind
-- per-source cursors, and the conversions it attributed. CicloReports/Aggregator.swift explains the scheme.

-- Fold order. Identity ids do not commit in order, so "id > last" would skip a row whose transaction commits after
-- a larger id was folded. Every raw row instead carries the id of the transaction that wrote it; a fold takes only
-- rows older than the oldest transaction still running (pg_snapshot_xmin), which are all committed and visible, in
-- (fold_xid, id) order. Rows written before this migration read the constant '1' (an instant ADD COLUMN, no
-- rewrite): they are older than any fold. New rows get their transaction's id from the default.
ALTER TABLE deliveries ADD COLUMN fold_xid xid8 NOT NULL DEFAULT '1';
ALTER TABLE deliveries ALTER COLUMN fold_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE responses ADD COLUMN fold_xid xid8 NOT NULL DEFAULT '1';
ALTER TABLE responses ALTER COLUMN fold_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE events ADD COLUMN fold_xid xid8 NOT NULL DEFAULT '1';
ALTER TABLE events ALTER COLUMN fold_xid SET DEFAULT pg_current_xact_id();
-- Serve the folds' ordered walks: (fold_xid, id) > cursor, ORDER BY fold_xid, id, LIMIT chunk.
CREATE INDEX deliveries_fold ON deliveries (fold_xid, id);
CREATE INDEX responses_fold ON responses (fold_xid, id);
CREATE INDEX events_fold ON events (fold_xid, id);

-- The lifecycle stage of the customer when the send was recorded (the worker's finish statement sets it), so a
-- customer who moves on later does not move the send's figures with them.
ALTER TABLE deliveries ADD COLUMN stage text;

-- Holdouts are decisions, not deliveries: their would-have-received send is attributed conversions like a real
-- one. The scheduler records the customer's stage with the decision and stamps fold_xid on insert and on the
-- update that turns an exclusion into a holdout.
ALTER TABLE send_decisions ADD COLUMN stage text;
ALTER TABLE send_decisions ADD COLUMN fold_xid xid8 NOT NULL DEFAULT '1';
ALTER TABLE send_decisions ALTER COLUMN fold_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX send_decisions_holdout_fold ON send_decisions (fold_xid)
    WHERE outcome IN ('holdout', 'global_holdout');
-- Attribution looks up a customer's holdout decisions by due time, as it does their deliveries.
CREATE INDEX send_decisions_holdout_customer ON send_decisions (customer_id, due_at)
    WHERE outcome IN ('holdout', 'global_holdout');

-- Conversions: an event of one of these kinds converts for a campaign serving the stage. Campaigns without a
-- stage use the column's default.
ALTER TABLE lifecycle_stages ADD COLUMN conversion_kinds text[] NOT NULL DEFAULT '{purchase,deposit,sign_up}';
UPDATE lifecycle_stages SET conversion_kinds = CASE key
    WHEN 'attract' THEN '{sign_up,download,form_submit}'
    WHEN 'capture' THEN '{sign_up,download,form_submit}'
    WHEN 'nurture' THEN '{demo_request,trial_start,sign_up}'
    WHEN 'convert' THEN '{purchase,deposit}'
    WHEN 'expand' THEN '{purchase,upgrade}'
    ELSE '{purchase,deposit}' END::text[];
-- An event is credited to the last send within this many days before it (campaign file: attribution_window).
ALTER TABLE campaigns ADD COLUMN attribution_days integer NOT NULL DEFAULT 7
    CHECK (attribution_days > 0 AND attribution_days <= 365);

-- Where each source's fold is: every row with (fold_xid, id) <= (xid, id) is folded. Holdout decisions have no id
-- and fold by whole transactions (id stays 0). A fold locks all four rows (FOR UPDATE, in key order), so two
-- aggregators take turns and each sees the cursor the other left.
CREATE TABLE report_cursors (
    source     text PRIMARY KEY CHECK (source IN ('decisions', 'deliveries', 'events', 'responses')),
    xid        xid8 NOT NULL DEFAULT '0',
    id         bigint NOT NULL DEFAULT 0,
    folded     bigint NOT NULL DEFAULT 0,        -- rows folded so far (for progress and the benchmark)
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO report_cursors (source) VALUES ('decisions'), ('deliveries'), ('events'), ('responses');

-- A response whose send is still in the queue (send_jobs) waits here until the worker has recorded the delivery,
-- so its variant, stage and day come from the send whatever the order of commits.
CREATE TABLE report_pending_responses (
    response_id bigint NOT NULL,
    received_at timestamptz NOT NULL,
    idempotency_key text NOT NULL,
    PRIMARY KEY (response_id, received_at)
);

-- The conversions the fold attributed: one row per (event, campaign credited). Each is credited to the last
-- send (or holdout decision) the customer had, among campaigns for which the event's kind converts, within that
-- campaign's window and recorded before the event was (fold_xid order, so the answer never depends on timing).
CREATE TABLE report_conversions (
    event_id    bigint PRIMARY KEY,
    send_key    text NOT NULL,
    holdout     boolean NOT NULL,
    first       boolean NOT NULL,               -- the send's first conversion, in fold order: counts as converted
    revenue     numeric,
    campaign_id bigint,
    variant     text,
    channel     text,
    stage       text,
    day         date NOT NULL,                  -- the send's day (UTC), like every figure of the send
    occurred_at timestamptz NOT NULL
);
CREATE INDEX report_conversions_send ON report_conversions (send_key);

-- The rollups. Every figure of a send sits on the send's day (UTC) and dimensions, so rates compare a day's sends
-- with what they led to. A response whose send is unknown sits on its own day with its own campaign and channel.
-- Responses count once per send, kind and machine flag; machine opens and clicks are apart.
CREATE TABLE report_rollups (
    campaign_id         bigint,
    variant             text,
    channel             text,
    stage               text,
    day                 date NOT NULL,
    sent                bigint NOT NULL DEFAULT 0,
    failed              bigint NOT NULL DEFAULT 0,  -- deliveries: suppressed at send time, cancelled, discarded
    suppressed          bigint NOT NULL DEFAULT 0,
    cancelled           bigint NOT NULL DEFAULT 0,
    discarded           bigint NOT NULL DEFAULT 0,
    delivered           bigint NOT NULL DEFAULT 0,  -- responses, once per send
    bounced_hard        bigint NOT NULL DEFAULT 0,
    bounced_soft        bigint NOT NULL DEFAULT 0,
    complaints          bigint NOT NULL DEFAULT 0,
    provider_failed     bigint NOT NULL DEFAULT 0,
    unsubscribes        bigint NOT NULL DEFAULT 0,
    opens               bigint NOT NULL DEFAULT 0,
    machine_opens       bigint NOT NULL DEFAULT 0,
    clicks              bigint NOT NULL DEFAULT 0,
    machine_clicks      bigint NOT NULL DEFAULT 0,
    conversions         bigint NOT NULL DEFAULT 0,  -- treated: conversion events credited to sends
    converted           bigint NOT NULL DEFAULT 0,  -- sends with at least one
    revenue             numeric NOT NULL DEFAULT 0,
    held_out            bigint NOT NULL DEFAULT 0,  -- holdout decisions (campaign and global)
    holdout_conversions bigint NOT NULL DEFAULT 0,
    holdout_converted   bigint NOT NULL DEFAULT 0,
    holdout_revenue     numeric NOT NULL DEFAULT 0,
    CONSTRAINT report_rollups_key UNIQUE NULLS NOT DISTINCT (campaign_id, variant, channel, stage, day)
);
-- Reports read one campaign over a range of days, or everything over a range.
CREATE INDEX report_rollups_day ON report_rollups (day);
