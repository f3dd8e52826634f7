/// `ciclo report --verify`'s recount: every figure of report_rollups computed again from the raw tables, up to the
/// cursors, and set beside the rollups bucket by bucket. It shares the attribution rules with the fold
/// (Attribution) but not its incremental machinery: "first response of a send" and "first conversion of a send"
/// are window functions over everything folded, not lookups of earlier chunks, and nothing is read from
/// report_conversions. Parameters: $1/$2 deliveries cursor, $3/$4 responses cursor, $5/$6 events cursor,
/// $7 decisions cursor xid, $8 first day compared (null: all), $9 last day compared (null: all).
enum RecountStatement {
    /// The buckets whose figures differ, with both values of every figure (as text: revenue is numeric).
    static var sql: String {
        let figures = Attribution.allColumns
        let side = { (name: String) in
            figures.map { "sum(\($0)) FILTER (WHERE side = '\(name)')" }
        }
        let pairs = zip(side("raw"), side("rollup")).map {
            "trim_scale(coalesce(\($0), 0)::numeric)::text, trim_scale(coalesce(\($1), 0)::numeric)::text"
        }
        let differs = zip(side("raw"), side("rollup")).map { "coalesce(\($0), 0) <> coalesce(\($1), 0)" }
        let inRange = "($8::date IS NULL OR day >= $8::date) AND ($9::date IS NULL OR day <= $9::date)"
        return """
            WITH g AS MATERIALIZED (
                SELECT \(Attribution.conversionKinds) AS kinds, \(Attribution.longestWindow) AS longest
            ), responses_folded AS (
                SELECT r.*, (r.idempotency_key IS NULL OR row_number() OVER (
                           PARTITION BY r.idempotency_key, r.kind, r.machine ORDER BY r.fold_xid, r.id) = 1) AS first
                FROM responses r
                WHERE (r.fold_xid, r.id) <= ($3::xid8, $4::int8)
            ), located AS (
                SELECT r.kind, r.machine, r.first, \(Attribution.responseDimensions)
                FROM responses_folded r LEFT JOIN deliveries d ON d.idempotency_key = r.idempotency_key
                WHERE NOT EXISTS (SELECT 1 FROM report_pending_responses p
                                  WHERE p.response_id = r.id AND p.received_at = r.received_at)
                  -- Retention: a response whose send's row was dropped (its key is older than the first day
                  -- compared) cannot be placed; it is left out rather than filed under the wrong day.
                  AND ($8::date IS NULL OR d.idempotency_key IS NOT NULL OR r.idempotency_key IS NULL
                       OR NOT EXISTS (SELECT 1 FROM send_keys k WHERE k.idempotency_key = r.idempotency_key
                                        AND k.created_at < $8::date))
            ), credited AS (
                SELECT s.*, e.fold_xid, e.id, \(Attribution.amount) AS revenue
                FROM events e CROSS JOIN g
                \(Attribution.creditedSend(longest: "g.longest"))
                WHERE (e.fold_xid, e.id) <= ($5::xid8, $6::int8) AND e.kind = ANY (g.kinds)
            ), conversions AS (
                SELECT campaign_id, variant, channel, stage, \(Attribution.day("sent_at")) AS day, holdout, global,
                       revenue,
                       row_number() OVER (PARTITION BY send_key, holdout ORDER BY fold_xid, id) = 1 AS first
                FROM credited
            ), raw AS (
                SELECT \(Attribution.dimensions), \(padded(Attribution.deliveryColumns, "d"))
                FROM (SELECT campaign_id, variant, channel, stage, \(Attribution.day("finished_at")) AS day,
                             \(Attribution.deliveryFigures)
                      FROM deliveries WHERE (fold_xid, id) <= ($1::xid8, $2::int8) GROUP BY 1, 2, 3, 4, 5) d
                UNION ALL
                SELECT \(Attribution.dimensions), \(padded(Attribution.responseColumns, "r"))
                FROM (SELECT campaign_id, variant, channel, stage, day, \(Attribution.responseFigures)
                      FROM located GROUP BY 1, 2, 3, 4, 5) r
                UNION ALL
                SELECT \(Attribution.dimensions), \(padded(Attribution.conversionColumns, "c"))
                FROM (SELECT campaign_id, variant, channel, stage, day, \(Attribution.conversionFigures)
                      FROM conversions GROUP BY 1, 2, 3, 4, 5) c
                UNION ALL
                SELECT \(Attribution.dimensions), \(padded(Attribution.holdoutColumns, "h"))
                FROM (SELECT campaign_id, variant, channel, stage, \(Attribution.day("due_at")) AS day,
                             \(Attribution.holdoutFigures)
                      FROM send_decisions
                      -- Holdouts count once due (FoldStatements.decisions): read in the same snapshot as $7.
                      WHERE outcome IN ('holdout', 'global_holdout') AND fold_xid <= $7::xid8
                        AND due_at <= (SELECT due_through FROM report_cursors WHERE source = 'decisions')
                      GROUP BY 1, 2, 3, 4, 5) h
            ), sides AS (
                SELECT 'raw' AS side, * FROM raw WHERE \(inRange)
                UNION ALL
                SELECT 'rollup', \(Attribution.dimensions), \(Attribution.allColumns.joined(separator: ", "))
                FROM report_rollups WHERE \(inRange)
            )
            SELECT campaign_id, variant, channel, stage, day::text, count(*) FILTER (WHERE side = 'rollup'),
                   \(pairs.joined(separator: ",\n       "))
            FROM sides
            GROUP BY \(Attribution.dimensions)
            HAVING \(differs.joined(separator: "\n    OR "))
            ORDER BY day, campaign_id, variant, channel, stage
            """
    }

    /// The totals compared: buckets and sent, responses and conversions in the rollups, over the same days.
    static let totals = """
        SELECT count(*), coalesce(sum(sent), 0)::int8, coalesce(sum(delivered + bounced_hard + bounced_soft
                  + complaints + provider_failed + unsubscribes + opens + machine_opens + clicks + machine_clicks), 0)::int8,
               coalesce(sum(conversions + holdout_conversions + global_holdout_conversions), 0)::int8,
               coalesce(sum(held_out + global_held_out), 0)::int8
        FROM report_rollups
        WHERE ($1::date IS NULL OR day >= $1::date) AND ($2::date IS NULL OR day <= $2::date)
        """

    /// Every figure column, `present` ones taken from `alias` and the rest zero, in Attribution.allColumns order.
    static func padded(_ present: [String], _ alias: String) -> String {
        Attribution.allColumns.map { present.contains($0) ? "\(alias).\($0)" : "0 AS \($0)" }.joined(separator: ", ")
    }
}
