/// The fold's statements. Each folds one chunk of one source in (fold_xid, id) order after the source's cursor and
/// before the horizon, adds it to the rollups and moves the cursor past it, as one statement inside the
/// transaction that holds the cursors' row locks. Parameters: $1 cursor xid, $2 cursor id, $3 horizon, $4 chunk.
/// Each returns the number of raw rows it consumed (no row when there were none).
enum FoldStatements {
    /// Settings for the chunk's transaction only. JIT off: the fold statements are estimated far above
    /// jit_optimize_above_cost (the chunk's walk is costed over the whole table before its LIMIT), so PostgreSQL
    /// compiled every chunk with LLVM at -O3 with inlining; measured on 10M raw outcomes, 4.9 s of compilation for a
    /// response chunk that runs in 1.4 s without it, again for every chunk (compiled code is not kept). work_mem
    /// 64MB: the chunk (read four times), the key-ordered probes and the grouping then stay in memory instead of
    /// temporary files (at the default 4MB a 50,000-response chunk spills; about a fifth of its time).
    ///
    /// Sorts off: a chunk must be the first rows of a walk of the (fold_xid, id) index of each partition, merged
    /// (Merge Append) and cut by the LIMIT. The planner estimates `(fold_xid, id) > (x, i)` by its first column
    /// alone, so when the rows after the cursor share its transaction (a bulk import, a backlog written in one
    /// go) it expects none, and it chose to read every row after the cursor and sort them for the top chunk:
    /// every chunk read the whole rest of the table again. Measured on 10M raw outcomes, a 50,000-response chunk
    /// 1.5M rows from the end took 950 ms to read this way, 30 ms merged. The fold's other sorts (the probes'
    /// key order, the groupings) have no alternative without one, so they stay.
    static let chunkSettings = """
        SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true),
               set_config('enable_sort', 'off', true)
        """

    /// Locks every cursor in key order (two aggregators take turns; neither can deadlock the other) and returns
    /// where each source is.
    static let lockCursors = """
        SELECT source, xid::text, id FROM report_cursors ORDER BY source FOR UPDATE
        """

    /// Every transaction older than the oldest one still running has ended, so every row it wrote is visible
    /// to any later statement: rows with fold_xid below this are complete and can be folded.
    static let horizon = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text"

    /// Moves a source's cursor to the chunk's last row; `chunk` has fold_xid and id.
    static func advance(_ source: String) -> String {
        """
        , last AS (SELECT fold_xid, id FROM chunk ORDER BY fold_xid DESC, id DESC LIMIT 1)
        UPDATE report_cursors c
        SET xid = last.fold_xid, id = last.id, folded = c.folded + (SELECT count(*) FROM chunk), updated_at = now()
        FROM last WHERE c.source = '\(source)'
        RETURNING (SELECT count(*) FROM chunk)
        """
    }

    /// Deliveries: counts by outcome. Served by deliveries_fold.
    static let deliveries = """
        WITH chunk AS MATERIALIZED (
            SELECT fold_xid, id, campaign_id, variant, channel, stage, finished_at, outcome
            FROM deliveries
            WHERE (fold_xid, id) > ($1::xid8, $2::int8) AND fold_xid < $3::xid8
            ORDER BY fold_xid, id
            LIMIT $4
        ), folded AS (
            \(Attribution.upsert(Attribution.deliveryColumns, from: """
                SELECT campaign_id, variant, channel, stage, \(Attribution.day("finished_at")), \(Attribution.deliveryFigures)
                FROM chunk GROUP BY 1, 2, 3, 4, 5
                """))
        )
        \(advance("deliveries"))
        """

    /// Responses folded from `ready` (id, fold_xid, idempotency_key, campaign_id, channel, kind, machine,
    /// occurred_at) into the rollups, under the name `folded`. `located` is materialized: inlined, the planner
    /// would evaluate the first-of-kind lookup once for every figure that filters on it.
    ///
    /// Each response costs two index probes by send key (its delivery, and earlier responses of its kind), both
    /// index-only (0016). `probes` puts them in key order: the chunk's keys are scattered over every send, and in
    /// fold order nearly every probe read its leaf pages from outside shared_buffers again; in key order the
    /// probes walk both indexes forwards and each leaf is read once (measured on 10M raw outcomes: 35k buffer
    /// reads per 50,000-response chunk instead of 94k, and a fifth less time).
    static let foldReady = """
        probes AS MATERIALIZED (
            SELECT * FROM ready ORDER BY idempotency_key
        ), located AS MATERIALIZED (
            SELECT r.kind, r.machine, \(Attribution.firstResponse) AS first, \(Attribution.responseDimensions)
            FROM probes r LEFT JOIN deliveries d ON d.idempotency_key = r.idempotency_key
        ), folded AS (
            \(Attribution.upsert(Attribution.responseColumns, from: """
                SELECT campaign_id, variant, channel, stage, day, \(Attribution.responseFigures)
                FROM located GROUP BY 1, 2, 3, 4, 5
                HAVING count(*) FILTER (WHERE first) > 0
                """))
        )
        """

    /// Responses: a response whose send is still queued (its delivery not yet recorded) waits in
    /// report_pending_responses; the others are folded at once. Served by responses_fold.
    static let responses = """
        WITH chunk AS MATERIALIZED (
            SELECT r.id, r.received_at, r.fold_xid, r.idempotency_key, r.campaign_id, r.channel, r.kind, r.machine,
                   r.occurred_at,
                   EXISTS (SELECT 1 FROM send_jobs j WHERE j.idempotency_key = r.idempotency_key) AS in_queue
            FROM responses r
            WHERE (r.fold_xid, r.id) > ($1::xid8, $2::int8) AND r.fold_xid < $3::xid8
            ORDER BY r.fold_xid, r.id
            LIMIT $4
        ), waiting AS (
            INSERT INTO report_pending_responses (response_id, received_at, idempotency_key)
            SELECT id, received_at, idempotency_key FROM chunk WHERE in_queue
        ), ready AS (
            SELECT * FROM chunk WHERE NOT in_queue
        ), \(foldReady)
        \(advance("responses"))
        """

    /// Waiting responses whose send has left the queue: folded now, with the delivery the worker recorded.
    static let pendingResponses = """
        WITH resolved AS (
            DELETE FROM report_pending_responses p
            WHERE NOT EXISTS (SELECT 1 FROM send_jobs j WHERE j.idempotency_key = p.idempotency_key)
            RETURNING response_id, received_at
        ), ready AS (
            SELECT r.id, r.fold_xid, r.idempotency_key, r.campaign_id, r.channel, r.kind, r.machine, r.occurred_at
            FROM resolved x JOIN responses r ON r.id = x.response_id AND r.received_at = x.received_at
        ), \(foldReady)
        SELECT count(*) FROM ready
        """

    /// Conversion events: each credited to one send or holdout decision (Attribution.creditedSend), recorded in
    /// report_conversions, and added to the rollups on the send's day. A send's first conversion in fold order is
    /// the one that makes it "converted": earlier chunks are in report_conversions, this one is ranked.
    static let events = """
        WITH chunk AS MATERIALIZED (
            SELECT id, fold_xid, customer_id, kind, occurred_at, payload
            FROM events
            WHERE (fold_xid, id) > ($1::xid8, $2::int8) AND fold_xid < $3::xid8
            ORDER BY fold_xid, id
            LIMIT $4
        ), settings AS MATERIALIZED (
            SELECT \(Attribution.conversionKinds) AS kinds, \(Attribution.longestWindow) AS longest
        ), credited AS (
            SELECT e.id AS event_id, e.fold_xid, e.occurred_at, \(Attribution.amount) AS revenue, s.*
            FROM chunk e CROSS JOIN settings g
            \(Attribution.creditedSend(longest: "g.longest"))
            WHERE e.kind = ANY (g.kinds)
        ), recorded AS (
            INSERT INTO report_conversions (event_id, send_key, holdout, global, first, revenue, campaign_id, variant,
                                            channel, stage, day, occurred_at)
            SELECT c.event_id, c.send_key, c.holdout, c.global,
                   row_number() OVER (PARTITION BY c.send_key, c.holdout ORDER BY c.fold_xid, c.event_id) = 1
                   AND NOT EXISTS (SELECT 1 FROM report_conversions o WHERE o.send_key = c.send_key
                                     AND o.holdout = c.holdout),
                   c.revenue, c.campaign_id, c.variant, c.channel, c.stage, \(Attribution.day("c.sent_at")),
                   c.occurred_at
            FROM credited c
            RETURNING holdout, global, first, revenue, campaign_id, variant, channel, stage, day
        ), folded AS (
            \(Attribution.upsert(Attribution.conversionColumns, from: """
                SELECT campaign_id, variant, channel, stage, day, \(Attribution.conversionFigures)
                FROM recorded GROUP BY 1, 2, 3, 4, 5
                """))
        )
        \(advance("events"))
        """

    /// Holdout decisions, whole transactions at a time (they have no id). A holdout counts once its
    /// would-have-received send is due, as a treated send counts once it is sent: a holdout deferred by quiet hours
    /// or a trigger's delay cannot have converted yet. So a decision is folded by the first fold at which both its
    /// transaction is below the horizon and its due time is at or before `through` (this fold's now(), never
    /// behind the last fold's). The chunk is the holdouts that `arrived` below the horizon since the xid cursor and
    /// are due, plus those that arrived earlier and fell due since the last fold (served by
    /// send_decisions_holdout_fold and send_decisions_holdout_due). Each is folded exactly once: the xid cursor
    /// moves past every holdout that arrived, due or not, and due_through to `through`. $2 and $4 are unused.
    static let decisions = """
        WITH due AS MATERIALIZED (
            SELECT due_through AS since, greatest(due_through, now()) AS through
            FROM report_cursors WHERE source = 'decisions'
        ), arrived AS MATERIALIZED (
            SELECT fold_xid, campaign_id, variant, channel, stage, due_at, outcome
            FROM send_decisions
            WHERE outcome IN ('holdout', 'global_holdout') AND fold_xid > $1::xid8 AND fold_xid < $3::xid8
              AND $2::int8 IS NOT NULL AND $4::int8 IS NOT NULL
        ), chunk AS MATERIALIZED (
            SELECT a.* FROM arrived a, due WHERE a.due_at <= due.through
            UNION ALL
            SELECT sd.fold_xid, sd.campaign_id, sd.variant, sd.channel, sd.stage, sd.due_at, sd.outcome
            FROM send_decisions sd, due
            WHERE sd.outcome IN ('holdout', 'global_holdout') AND sd.fold_xid <= $1::xid8
              AND sd.due_at > due.since AND sd.due_at <= due.through
        ), folded AS (
            \(Attribution.upsert(Attribution.holdoutColumns, from: """
                SELECT campaign_id, variant, channel, stage, \(Attribution.day("due_at")), \(Attribution.holdoutFigures)
                FROM chunk GROUP BY 1, 2, 3, 4, 5
                """))
        )
        UPDATE report_cursors c
        SET xid = coalesce((SELECT max(fold_xid) FROM arrived), c.xid), due_through = due.through,
            folded = c.folded + (SELECT count(*) FROM chunk), updated_at = now()
        FROM due WHERE c.source = 'decisions'
        RETURNING (SELECT count(*) FROM chunk)
        """
}
