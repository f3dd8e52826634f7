import Foundation
import Logging
import Postgres

/// Runs the scheduler over simulated time against the real data, inside one transaction that is rolled back:
/// every rule is applied as a live tick would, decisions are recorded so later ticks see earlier ones (cooldowns,
/// caps, rotation), and nothing is enqueued, delivered or kept.
public struct Simulator: Sendable {
    /// What the simulated days decided: per day (UTC), campaign, outcome and reason.
    public struct Row: Sendable, Equatable {
        public var day: String
        public var campaign: String
        public var outcome: String
        public var reason: String?
        public var count: Int
    }

    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    static let reportSQL = """
        SELECT to_char(d.decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), k.key, d.outcome, d.reason, count(*)
        FROM send_decisions d JOIN campaigns k ON k.id = d.campaign_id
        WHERE d.decided_at >= $1 AND d.decided_at <= $2
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
        """

    /// Carries the report out of the transaction it rolls back.
    private struct RollBack: Error { var rows: [Row] }

    /// Ticks from `start` every `step` for `days` days. `inspect` runs inside the transaction before it is rolled
    /// back, so tests can check the simulated decisions with their own SQL.
    public func run(
        from start: Date, days: Int, step: Duration, on conn: PostgresConnection,
        inspect: @Sendable (PostgresConnection) async throws -> Void = { _ in },
        progress: @Sendable (Date, [PassReport]) -> Void = { _, _ in }
    ) async throws -> [Row] {
        let stepSeconds = Double(step.components.seconds) + Double(step.components.attoseconds) / 1e18
        precondition(stepSeconds > 0, "the step must be positive")
        let end = start.addingTimeInterval(Double(days) * 86_400)
        do {
            try await conn.withTransaction { conn in
                var state = Tick.SimulationState(start: start)
                let tick = Tick(logger: logger)
                var now = start
                while now < end {
                    let reports = try await tick.run(now: now, mode: .dryRun, simulation: &state, on: conn)
                    progress(now, reports)
                    now = now.addingTimeInterval(stepSeconds)
                }
                var rows: [Row] = []
                for row in try await conn.query(Self.reportSQL, [start, end]) {
                    rows.append(Row(day: try row.decode(at: 0), campaign: try row.decode(at: 1),
                                    outcome: try row.decode(at: 2), reason: try row.decode(at: 3),
                                    count: try row.decode(at: 4)))
                }
                try await inspect(conn)
                throw RollBack(rows: rows)
            }
        } catch let done as RollBack {
            return done.rows
        }
        preconditionFailure("the simulation transaction always rolls back")
    }
}
