import Postgres

/// A table partitioned by month on a time column (schema/0011_partitions.sql).
public struct PartitionedTable: Sendable, Equatable {
    public var name: String
    public var key: String

    public init(name: String, key: String) {
        self.name = name
        self.key = key
    }

    /// The raw outcome and event tables whose old months retention drops. The rollups are not among them: they
    /// outlive the raw rows they were built from.
    public static let raw = [
        PartitionedTable(name: "deliveries", key: "finished_at"),
        PartitionedTable(name: "responses", key: "occurred_at"),
        PartitionedTable(name: "events", key: "occurred_at"),
    ]
}

/// One change to make: a month to create, or a month to drop. Identifiers and bound literals come quoted by the
/// server (quote_ident, quote_literal), so the DDL built from them never splices raw text.
struct PartitionAction: Sendable {
    enum Kind: String, Sendable { case create, drop }

    var kind: Kind
    var table: String
    var partition: String
    /// The month's bounds as dates, for people: [from, to).
    var from: String
    var to: String
    var quotedTable: String
    var quotedPartition: String
    var quotedKey: String
    /// The DEFAULT partition, as regclass text (already quoted); nil when the table has none.
    var quotedDefault: String?
    /// The bounds as timestamptz text (for parameters) and as quoted literals (for DDL).
    var lower: String
    var upper: String
    var lowerLiteral: String
    var upperLiteral: String
}

enum MaintenancePlan {
    /// The tables of $1 that are not partitioned (or do not exist).
    static let unpartitionedSQL = """
        SELECT t.name FROM unnest($1::text[]) AS t(name)
        WHERE NOT EXISTS (SELECT FROM pg_partitioned_table p WHERE p.partrelid = to_regclass(quote_ident(t.name)))
        """

    /// Every action for the tables $1 (partition keys $2): the months from the first one missing after the newest
    /// partition (or from this month) to $3 months ahead that no partition covers yet, unless they end before the
    /// cutoff $4; and every partition that ends at or before the cutoff. A partition's bounds are read back from
    /// pg_get_expr, whose text the transaction writes in UTC and ISO style (see `sessionSQL`). Partitions bounded by
    /// MINVALUE or MAXVALUE, and the DEFAULT partition, are never dropped. Months are UTC calendar months.
    static let planSQL = """
        WITH parent AS (
            SELECT t.name, t.key, t.ord, p.partrelid AS oid, nullif(p.partdefid, 0)::regclass AS default_partition
            FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(name, key, ord)
            JOIN pg_partitioned_table p ON p.partrelid = to_regclass(quote_ident(t.name))
        ),
        part AS (
            SELECT parent.name, c.relname AS partition, m.b[1]::timestamptz AS lo, m.b[2]::timestamptz AS hi
            FROM parent
            JOIN pg_inherits i ON i.inhparent = parent.oid
            JOIN pg_class c ON c.oid = i.inhrelid
            CROSS JOIN LATERAL (SELECT regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                                    '^FOR VALUES FROM \\(''([^'']+)''\\) TO \\(''([^'']+)''\\)$') AS b) m
            WHERE m.b IS NOT NULL
        ),
        wanted AS (
            SELECT parent.name, s.month AT TIME ZONE 'UTC' AS lo, (s.month + interval '1 month') AT TIME ZONE 'UTC' AS hi,
                   parent.name || '_p' || to_char(s.month, 'YYYY_MM') AS partition
            FROM parent
            CROSS JOIN LATERAL (SELECT date_trunc('month', now() AT TIME ZONE 'UTC') AS this_month,
                                       (SELECT date_trunc('month', max(part.hi) AT TIME ZONE 'UTC') FROM part
                                        WHERE part.name = parent.name) AS first_missing) b
            CROSS JOIN LATERAL generate_series(least(b.this_month, coalesce(b.first_missing, b.this_month)),
                                               b.this_month + make_interval(months => $3::int4), interval '1 month') AS s(month)
        ),
        action AS (
            SELECT 'create' AS kind, w.name, w.partition, w.lo, w.hi FROM wanted w
            WHERE NOT EXISTS (SELECT FROM part p WHERE p.name = w.name AND p.lo < w.hi AND p.hi > w.lo)
              AND ($4::timestamptz IS NULL OR w.hi > $4::timestamptz)
            UNION ALL
            SELECT 'drop', p.name, p.partition, p.lo, p.hi FROM part p WHERE p.hi <= $4::timestamptz
        )
        SELECT a.kind, a.name, a.partition, to_char(a.lo AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
               to_char(a.hi AT TIME ZONE 'UTC', 'YYYY-MM-DD'), quote_ident(a.name), quote_ident(a.partition),
               quote_ident(parent.key), parent.default_partition::text, a.lo::text, a.hi::text,
               quote_literal(a.lo), quote_literal(a.hi)
        FROM action a JOIN parent USING (name)
        ORDER BY parent.ord, a.kind, a.lo
        """

    /// Bounds and the cutoff are written and read back as text: fix the zone and style for the planning transaction
    /// (only: the caller's session keeps its own) so they round-trip whatever the role's defaults are.
    static let sessionSQL = "SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true)"

    static func actions(
        for tables: [PartitionedTable], monthsAhead: Int, cutoff: String?, on conn: PostgresConnection
    ) async throws -> [PartitionAction] {
        let missing = try await conn.query(unpartitionedSQL, [tables.map(\.name)]).map { try $0.decode(String.self, at: 0) }
        if !missing.isEmpty {
            throw MaintenanceError(.notPartitioned, "\(missing.joined(separator: ", ")) \(missing.count == 1 ? "is" : "are") not partitioned by time; run `ciclo migrate` first")
        }
        return try await conn.query(planSQL, [tables.map(\.name), tables.map(\.key), monthsAhead, cutoff]).map { row in
            PartitionAction(
                kind: try row.decode(String.self, at: 0) == "create" ? .create : .drop,
                table: try row.decode(at: 1), partition: try row.decode(at: 2), from: try row.decode(at: 3),
                to: try row.decode(at: 4), quotedTable: try row.decode(at: 5), quotedPartition: try row.decode(at: 6),
                quotedKey: try row.decode(at: 7), quotedDefault: try row.decode(at: 8), lower: try row.decode(at: 9),
                upper: try row.decode(at: 10), lowerLiteral: try row.decode(at: 11), upperLiteral: try row.decode(at: 12))
        }
    }
}
