import CicloCampaigns
import Foundation
import Logging
import Postgres

/// What one pass decided, by outcome (queued, holdout, no_consent, capped...), plus `enqueued`: the jobs that
/// actually went into the queue.
public struct PassReport: Sendable, Equatable {
    public var campaign: String
    public var counts: [String: Int] = [:]

    public var enqueued: Int { counts["enqueued"] ?? 0 }
}

/// One scheduler tick: every due campaign pass in competition order, each in its own transaction with its
/// bookkeeping (next schedule slot, event cursor, launch), so a crash between passes loses nothing and repeats
/// nothing. Live ticks enqueue; dry runs (the simulator) only record decisions, inside the caller's transaction.
public struct Tick: Sendable {
    public enum Mode: Sendable {
        case live
        /// Simulated time: schedules and event windows come from `state`, nothing is enqueued.
        case dryRun
    }

    /// Where a dry run is in time: the last tick per campaign, since nothing is written to the bookkeeping columns.
    public struct SimulationState: Sendable {
        /// Where the simulation started: interval schedules of campaigns without a start count from here.
        public let start: Date
        public var lastTick: Date
        public var nextRun: [Int64: Date] = [:]
        /// The simulated day the lifecycle rules last ran on: dry runs apply them once a day, not every tick.
        var lifecycleDay: Int?
        public init(start: Date) {
            self.start = start
            lastTick = start
        }
    }

    let logger: Logger
    /// The most events of one kind a pass reads; the rest wait for the next tick.
    let eventBatch: Int64

    public init(logger: Logger, eventBatch: Int64 = 50_000) {
        self.logger = logger
        self.eventBatch = eventBatch
    }

    static let jitOffSQL = "SELECT set_config('jit', 'off', false)"
    static let advanceScheduleSQL = "UPDATE campaigns SET next_run_at = $2, last_run_at = $3 WHERE id = $1"
    static let initScheduleSQL = "UPDATE campaigns SET next_run_at = $2 WHERE id = $1 AND next_run_at IS NULL"
    /// The launch number just enqueued, never lowered (launches only grow).
    static let launchDoneSQL = """
        UPDATE campaigns SET last_run_at = $2, launches_run = greatest(launches_run, $3::int4) WHERE id = $1
        """
    static let cursorSQL = """
        INSERT INTO scheduler_cursors (campaign_id, last_event_id)
        SELECT $1, coalesce((SELECT max(id) FROM events WHERE received_at < $2), 0)
        ON CONFLICT (campaign_id) DO UPDATE SET campaign_id = excluded.campaign_id
        RETURNING last_event_id, (SELECT coalesce(max(id), 0) FROM events)
        """
    /// How far the cursor may move: up to the first gap in event ids that is younger than a minute (an insert
    /// still in flight may fill it); an older gap is a rolled-back insert and is passed. Events beyond a young gap
    /// are processed now anyway and again next time, which the decision log makes harmless.
    static let cursorAdvanceSQL = """
        SELECT coalesce(min(t.prev) FILTER (WHERE t.id <> t.prev + 1
                                             AND t.received_at > clock_timestamp() - interval '60 seconds'),
                        max(t.id), $1)
        FROM (SELECT id, received_at, lag(id, 1, $1) OVER (ORDER BY id) AS prev
              FROM events WHERE id > $1 AND id <= $2) t
        """
    static let saveCursorSQL = "UPDATE scheduler_cursors SET last_event_id = $2, updated_at = now() WHERE campaign_id = $1"
    /// Jobs past their relevance (a trigger's window, an ad hoc expiry) leave the queue as cancelled.
    static let cancelExpiredSQL = """
        WITH gone AS (
            DELETE FROM send_jobs j WHERE j.state = 'due' AND j.expires_at < $1
            RETURNING j.id, j.idempotency_key, j.campaign_id, j.customer_id, j.channel, j.attempts, j.errors,
                      j.payload->>'variant' AS variant
        )
        INSERT INTO deliveries (job_id, idempotency_key, campaign_id, customer_id, channel, outcome, reason, attempts,
                                errors, variant, stage)
        SELECT g.id, g.idempotency_key, g.campaign_id, g.customer_id, g.channel, 'cancelled', 'expired', g.attempts,
               g.errors, g.variant, c.stage
        FROM gone g LEFT JOIN customers c ON c.id = g.customer_id
        """

    /// Runs every pass due at `now`. In live mode each pass commits on its own; in a dry run the caller holds the
    /// transaction.
    public func run(now: Date, mode: Mode, simulation: inout SimulationState, on conn: PostgresConnection)
        async throws -> [PassReport]
    {
        // Stages and lead scores first, so this tick's segments see the customers where they are now.
        let day = Int(now.timeIntervalSince1970 / 86_400)
        if case .live = mode {
            try await applyLifecycle(now: now, on: conn)
        } else if simulation.lifecycleDay != day {
            try await applyLifecycle(now: now, on: conn)
            simulation.lifecycleDay = day
        }
        let policy = try await ContactPolicy.load(on: conn)
        let (campaigns, segments, problems) = try await ScheduledCampaign.loadActive(on: conn)
        for problem in problems { logger.error("skipping: \(problem)") }
        var reports: [PassReport] = []
        for scheduled in campaigns where scheduled.isLive(at: now) {
            let pass = Pass(scheduled: scheduled, now: now, policy: policy, segments: segments, mode: mode)
            let started = ContinuousClock.now
            if let report = try await runPass(pass, simulation: &simulation, on: conn) {
                reports.append(report)
                let elapsed = ContinuousClock.now - started
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                let counts = report.counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                logger.info("pass \(report.campaign) (\(String(format: "%.3f", seconds)) s): \(counts.joined(separator: " "))")
            }
        }
        if case .live = mode {
            try await conn.query(Self.cancelExpiredSQL, [now])
        }
        simulation.lastTick = now
        return reports
    }

    private func applyLifecycle(now: Date, on conn: PostgresConnection) async throws {
        let report = try await LifecycleRules().apply(now: now, on: conn)
        if report.moved > 0 || report.rescored > 0 {
            logger.info("lifecycle: \(report.rescored) rescored, \(report.moved) moved (\(report.moves.filter { $0.count > 0 }.map { "\($0.rule)=\($0.count)" }.joined(separator: " ")))")
        }
    }

    struct Pass {
        var scheduled: ScheduledCampaign
        var now: Date
        var policy: ContactPolicy
        var segments: [String: Segment]
        var mode: Mode

        func statement(_ source: EligibilityStatement.Source) -> EligibilityStatement {
            return EligibilityStatement(
                campaignID: scheduled.id, salt: scheduled.salt, campaign: scheduled.campaign, source: source,
                now: now, policy: policy, enqueue: isLive, segments: segments)
        }

        var isLive: Bool {
            if case .live = mode { return true }
            return false
        }
    }

    private func runPass(_ pass: Pass, simulation: inout SimulationState, on conn: PostgresConnection) async throws
        -> PassReport?
    {
        let campaign = pass.scheduled.campaign
        switch campaign.kind {
        case .recurring:
            guard let recurring = campaign.recurring else { return nil }
            let due = pass.isLive ? pass.scheduled.nextRunAt : simulation.nextRun[pass.scheduled.id]
            guard let due else {
                // First sight: the first slot at or after the start (or now) becomes the next run.
                let first = Self.nextSlot(recurring.schedule, after: (campaign.startsAt ?? pass.now).addingTimeInterval(-1),
                                          start: anchor(pass, simulation))
                if pass.isLive {
                    try await conn.query(Self.initScheduleSQL, [pass.scheduled.id, first])
                } else {
                    simulation.nextRun[pass.scheduled.id] = first ?? .distantFuture
                }
                if let first, first <= pass.now { return try await runCycle(pass, recurring, &simulation, on: conn) }
                return nil
            }
            guard due <= pass.now else { return nil }
            return try await runCycle(pass, recurring, &simulation, on: conn)
        case .trigger, .experience:
            let kind = campaign.trigger?.eventKind ?? campaign.experience?.eventKind ?? ""
            if !pass.isLive {
                return try await execute(pass.statement(.eventsByTime(kind: kind, after: simulation.lastTick)), on: conn)
            }
            return try await conn.withTransaction { conn in
                let row = try await conn.query(Self.cursorSQL, [pass.scheduled.id, pass.scheduled.createdAt]).first!
                let after: Int64 = try row.decode(at: 0)
                let newest: Int64 = try row.decode(at: 1)
                let upTo = min(newest, after + eventBatch)
                guard upTo > after else { return nil }
                let report = try await execute(pass.statement(.events(kind: kind, after: after, upTo: upTo)), on: conn)
                let advanced: Int64 = try await conn.query(Self.cursorAdvanceSQL, [after, upTo]).first!.decode(at: 0)
                try await conn.query(Self.saveCursorSQL, [pass.scheduled.id, advanced])
                return report
            }
        case .adhoc:
            // By number, not by time: the launch was stamped by another machine's clock (0020_launch_runs.sql).
            guard pass.scheduled.launches > pass.scheduled.launchesRun else { return nil }
            if let expiry = campaign.adhoc?.expiresAt, expiry <= pass.now { return nil }
            let statement = pass.statement(.launch(occasion: Int64(pass.scheduled.launches)))
            if !pass.isLive { return try await execute(statement, on: conn) }
            return try await conn.withTransaction { conn in
                let report = try await execute(statement, on: conn)
                try await conn.query(Self.launchDoneSQL, [pass.scheduled.id, pass.now, pass.scheduled.launches])
                return report
            }
        }
    }

    private func runCycle(_ pass: Pass, _ recurring: Recurring, _ simulation: inout SimulationState,
                          on conn: PostgresConnection) async throws -> PassReport
    {
        let next = Self.nextSlot(recurring.schedule, after: pass.now, start: anchor(pass, simulation))
        let statement = pass.statement(.cycle)
        if !pass.isLive {
            simulation.nextRun[pass.scheduled.id] = next ?? .distantFuture
            return try await execute(statement, on: conn)
        }
        return try await conn.withTransaction { conn in
            let report = try await execute(statement, on: conn)
            try await conn.query(Self.advanceScheduleSQL, [pass.scheduled.id, next, pass.now])
            return report
        }
    }

    /// Interval schedules count from the campaign's start, else from its creation (or the simulation's start).
    private func anchor(_ pass: Pass, _ simulation: SimulationState) -> Date {
        pass.scheduled.campaign.startsAt ?? (pass.isLive ? pass.scheduled.createdAt : simulation.start)
    }

    /// The first slot strictly after `date`: cron in its zone, or the start plus a whole number of intervals.
    static func nextSlot(_ schedule: Schedule, after date: Date, start: Date) -> Date? {
        switch schedule {
        case .cron(let cron, let zone):
            return cron.next(after: date, in: zone)
        case .interval(let seconds):
            let interval = Double(seconds)
            if date < start { return start }
            let elapsed = date.timeIntervalSince(start)
            return start.addingTimeInterval((floor(elapsed / interval) + 1) * interval)
        }
    }

    func execute(_ statement: EligibilityStatement, on conn: PostgresConnection) async throws -> PassReport {
        let (sql, binds) = try statement.build()
        var report = PassReport(campaign: statement.campaign.key)
        // The planner's cost for a pass over a large population triggers JIT compilation, which took ~0.7 s of a
        // 250,000-customer pass and saves nothing here: the work is index probes and writes, not expressions.
        try await conn.query(Self.jitOffSQL)
        for row in try await conn.query(sql, binds) {
            let count: Int = try row.decode(at: 1)
            if count > 0 { report.counts[try row.decode(at: 0), default: 0] += count }
        }
        return report
    }
}
