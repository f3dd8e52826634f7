import Foundation
import Postgres

/// Recounts the rollups from the raw tables and reports every bucket that differs (`ciclo report --verify`).
///
/// Everything is read in one REPEATABLE READ snapshot: the cursors, the rollups and the raw rows agree with one
/// another whatever aggregators commit meanwhile. Only what the cursors have passed is recounted (the rest is not
/// folded yet). Days whose raw rows retention dropped are left out: comparison starts at `settings`
/// 'raw_retained_from' ({"day": "2026-01-01"}, moved forward by whoever drops raw partitions) or at `from`,
/// whichever is later; the rollups keep those days, the recount cannot.
public struct Verifier: Sendable {
    public init() {}

    /// One bucket whose figures differ.
    public struct Mismatch: Sendable, Equatable {
        public var campaignID: Int64?
        public var variant: String?
        public var channel: String?
        public var stage: String?
        public var day: String
        /// Figure name, raw recount, rollup value; only figures that differ.
        public var figures: [(name: String, raw: String, rollup: String)]

        public static func == (a: Mismatch, b: Mismatch) -> Bool {
            a.campaignID == b.campaignID && a.variant == b.variant && a.channel == b.channel && a.stage == b.stage
                && a.day == b.day && a.figures.map(\.name) == b.figures.map(\.name)
        }
    }

    public struct Result: Sendable {
        public var mismatches: [Mismatch]
        /// The first and last day compared (nil: unbounded).
        public var from: String?
        public var to: String?
        public var buckets: Int
        public var sent: Int
        public var responses: Int
        public var conversions: Int
        public var heldOut: Int
        public var matches: Bool { mismatches.isEmpty }
    }

    static let cursorsSQL = "SELECT source, xid::text, id FROM report_cursors"
    static let retainedSQL = "SELECT value->>'day' FROM settings WHERE key = 'raw_retained_from'"

    /// Recounts days in [from, to] (YYYY-MM-DD, either may be nil).
    public func verify(from: String?, to: String?, on conn: PostgresConnection) async throws -> Result {
        try await conn.withTransaction(.init(isolation: .repeatableRead, readOnly: true)) { conn in
            var cursors: [String: (String, Int64)] = [:]
            for row in try await conn.query(Self.cursorsSQL) {
                cursors[try row.decode(at: 0)] = (try row.decode(at: 1), try row.decode(at: 2))
            }
            guard let d = cursors["deliveries"], let r = cursors["responses"], let e = cursors["events"],
                let h = cursors["decisions"]
            else { throw PostgresError(code: .misuse, message: "report_cursors is missing rows; run ciclo migrate") }
            let retained: String? = try await conn.query(Self.retainedSQL).first?.decode(String?.self, at: 0)
            let start = [from, retained].compactMap { $0 }.max()
            let rows = try await conn.query(
                RecountStatement.sql, [d.0, d.1, r.0, r.1, e.0, e.1, h.0, start, to])
            let names = Attribution.allColumns
            let mismatches = try rows.map { row in
                var figures: [(String, String, String)] = []
                for (i, name) in names.enumerated() {
                    let raw: String = try row.decode(at: 6 + 2 * i)
                    let rollup: String = try row.decode(at: 7 + 2 * i)
                    if raw != rollup { figures.append((name, raw, rollup)) }
                }
                return Mismatch(
                    campaignID: try row.decode(at: 0), variant: try row.decode(at: 1), channel: try row.decode(at: 2),
                    stage: try row.decode(at: 3), day: try row.decode(String.self, at: 4), figures: figures)
            }
            let totals = try await conn.query(RecountStatement.totals, [start, to]).single()
            return Result(
                mismatches: mismatches, from: start, to: to, buckets: try totals.decode(at: 0),
                sent: try totals.decode(at: 1), responses: try totals.decode(at: 2),
                conversions: try totals.decode(at: 3), heldOut: try totals.decode(at: 4))
        }
    }
}
