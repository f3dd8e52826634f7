/// The benchmark's reference for the fold (`ciclo-bench reporter`): the same grouping into the same kind of table,
/// as plain INSERT ... SELECT ... GROUP BY over whole tables, with none of the fold's machinery (no cursors, no
/// horizon, no chunks, no first-of-kind checks, no waiting responses, no record of conversions).
public enum ReferenceFold {
    /// Creates `table` shaped like report_rollups, empty.
    public static func create(_ table: String) -> String {
        "DROP TABLE IF EXISTS \(table); CREATE TABLE \(table) (LIKE report_rollups INCLUDING ALL)"
    }

    /// The four statements, in the fold's order, into `table`.
    public static func statements(into table: String) -> [String] {
        func upsert(_ columns: [String], _ select: String) -> String {
            Attribution.upsert(columns, from: select)
                .replacingOccurrences(of: "INSERT INTO report_rollups AS t", with: "INSERT INTO \(table) AS t")
                .replacingOccurrences(
                    of: "ON CONFLICT ON CONSTRAINT report_rollups_key",
                    with: "ON CONFLICT (campaign_id, variant, channel, stage, day)")
        }
        return [
            upsert(
                Attribution.holdoutColumns,
                """
                SELECT campaign_id, variant, channel, stage, \(Attribution.day("due_at")), \(Attribution.holdoutFigures)
                FROM send_decisions WHERE outcome IN ('holdout', 'global_holdout') AND due_at <= now()
                GROUP BY 1, 2, 3, 4, 5
                """),
            upsert(
                Attribution.deliveryColumns,
                """
                SELECT campaign_id, variant, channel, stage, \(Attribution.day("finished_at")), \(Attribution.deliveryFigures)
                FROM deliveries GROUP BY 1, 2, 3, 4, 5
                """),
            upsert(
                Attribution.responseColumns,
                """
                SELECT campaign_id, variant, channel, stage, day, \(Attribution.responseFigures)
                FROM (SELECT r.kind, r.machine, true AS first, \(Attribution.responseDimensions)
                      FROM responses r LEFT JOIN deliveries d ON d.idempotency_key = r.idempotency_key) located
                GROUP BY 1, 2, 3, 4, 5
                """),
            upsert(
                Attribution.conversionColumns,
                """
                SELECT campaign_id, variant, channel, stage, \(Attribution.day("sent_at")), \(Attribution.conversionFigures)
                FROM (SELECT s.*, true AS first, \(Attribution.amount) AS revenue
                      FROM events e
                      CROSS JOIN (SELECT \(Attribution.conversionKinds) AS kinds,
                                         \(Attribution.longestWindow) AS longest) g
                      \(Attribution.creditedSend(longest: "g.longest"))
                      WHERE e.kind = ANY (g.kinds)) credited
                GROUP BY 1, 2, 3, 4, 5
                """),
        ]
    }
}
