-- The reporter's fold looks up two things for every response it folds (CicloReports/Attribution.swift): the
-- send's delivery (its variant, channel, stage and day) and whether an earlier response of the same send, kind
-- and machine flag exists (first-of-kind). Measured on 10M raw outcomes, both were index probes followed by heap
-- fetches: 4 buffers for the delivery, 6 for the first-of-kind check (about 2.6 earlier responses per send, each
-- a heap fetch on a random page to read kind, machine and fold_xid). These indexes hold everything either probe
-- reads, so both become index-only scans (3 buffers each, no heap visit once the pages are all-visible), and the
-- first-of-kind probe lands on exactly the rows it asks about instead of filtering the send's responses.
--
-- They replace the single-column indexes on idempotency_key (0004, rebuilt per partition by 0011): every lookup
-- by send key (the tracking endpoints, provider webhooks, the unsubscribe check) is served by the new index's
-- first column, so keeping both would only cost every insert a second index.
--
-- Building takes a SHARE lock on each table: inserts into deliveries and responses wait until it is done
-- (about a minute per ten million rows here).
CREATE INDEX responses_first_of_kind ON responses (idempotency_key, kind, machine, fold_xid, id);
DROP INDEX responses_key;

CREATE INDEX deliveries_send ON deliveries (idempotency_key)
    INCLUDE (campaign_id, variant, channel, stage, finished_at);
DROP INDEX deliveries_key;
