-- Control groups that compare like with like (CicloReports/Attribution.swift, FoldStatements.decisions).
--
-- A campaign's uplift compares its treated sends with its own holdout. Two things made that holdout look worse
-- than it was:
--   1. A holdout counted as soon as it was decided, while a treated send counts once it is sent. A holdout whose
--      would-have-received send was deferred (quiet hours, a trigger's delay) sat in the control group before it
--      could convert at all. Now a holdout counts once its due time has passed: the decisions fold keeps a second
--      cursor, due_through, and takes a holdout when both its transaction is below the horizon and its due time
--      is at or before due_through.
--   2. Global holdouts were counted in every campaign's control group. They receive no marketing at all, so they
--      also miss every other campaign's effect. They now have figures of their own (global_*), which measure the
--      whole programme, and campaign uplift uses the campaign's holdout alone.
ALTER TABLE report_rollups
    ADD COLUMN global_held_out            bigint NOT NULL DEFAULT 0,
    ADD COLUMN global_holdout_conversions bigint NOT NULL DEFAULT 0,
    ADD COLUMN global_holdout_converted   bigint NOT NULL DEFAULT 0,
    ADD COLUMN global_holdout_revenue     numeric NOT NULL DEFAULT 0;
COMMENT ON COLUMN report_rollups.held_out IS 'campaign holdout decisions whose due time has passed';

ALTER TABLE report_conversions ADD COLUMN global boolean NOT NULL DEFAULT false;

-- Every holdout decision with fold_xid <= xid and due_at <= due_through is folded (decisions row only).
ALTER TABLE report_cursors ADD COLUMN due_through timestamptz NOT NULL DEFAULT '-infinity';

-- The fold's second walk: holdouts already passed by the xid cursor that fall due since the last fold.
CREATE INDEX send_decisions_holdout_due ON send_decisions (due_at) WHERE outcome IN ('holdout', 'global_holdout');

-- What was already folded moves under the new rules, so the rollups agree with `ciclo report --verify`'s recount.
-- Conversions credited to a global holdout's would-have-received send move to the global figures.
WITH moved AS (
    UPDATE report_conversions c SET global = true
    FROM send_decisions sd
    WHERE c.holdout AND sd.outcome = 'global_holdout'
      AND c.send_key = coalesce(sd.idempotency_key, sd.campaign_id || ':' || sd.customer_id || ':' || sd.occasion)
    RETURNING c.campaign_id, c.variant, c.channel, c.stage, c.day, c.first, c.revenue
), sums AS (
    SELECT campaign_id, variant, channel, stage, day, count(*) AS n, count(*) FILTER (WHERE first) AS firsts,
           coalesce(sum(revenue), 0) AS revenue
    FROM moved GROUP BY 1, 2, 3, 4, 5
)
UPDATE report_rollups t
SET holdout_conversions = t.holdout_conversions - s.n,
    holdout_converted = t.holdout_converted - s.firsts,
    holdout_revenue = t.holdout_revenue - s.revenue,
    global_holdout_conversions = t.global_holdout_conversions + s.n,
    global_holdout_converted = t.global_holdout_converted + s.firsts,
    global_holdout_revenue = t.global_holdout_revenue + s.revenue
FROM sums s
WHERE t.campaign_id IS NOT DISTINCT FROM s.campaign_id AND t.variant IS NOT DISTINCT FROM s.variant
  AND t.channel IS NOT DISTINCT FROM s.channel AND t.stage IS NOT DISTINCT FROM s.stage AND t.day = s.day;

-- Holdouts already folded: global ones move to global_held_out, and those not yet due leave the count until the
-- fold takes them when they fall due (due_through starts now).
WITH folded AS (
    SELECT sd.campaign_id, sd.variant, sd.channel, sd.stage, (sd.due_at AT TIME ZONE 'UTC')::date AS day,
           count(*) AS n,
           count(*) FILTER (WHERE sd.outcome = 'global_holdout' AND sd.due_at <= now()) AS global
    FROM send_decisions sd
    JOIN report_cursors c ON c.source = 'decisions'
    WHERE sd.outcome IN ('holdout', 'global_holdout') AND sd.fold_xid <= c.xid
      AND (sd.outcome = 'global_holdout' OR sd.due_at > now())
    GROUP BY 1, 2, 3, 4, 5
)
UPDATE report_rollups t
SET held_out = t.held_out - s.n, global_held_out = t.global_held_out + s.global
FROM folded s
WHERE t.campaign_id IS NOT DISTINCT FROM s.campaign_id AND t.variant IS NOT DISTINCT FROM s.variant
  AND t.channel IS NOT DISTINCT FROM s.channel AND t.stage IS NOT DISTINCT FROM s.stage AND t.day = s.day;

UPDATE report_cursors SET due_through = now() WHERE source = 'decisions';
