import CicloCampaigns
import Foundation
import Postgres

/// What one lifecycle tick did.
public struct LifecycleReport: Sendable, Equatable {
    /// How many customers one rule moved.
    public struct Moves: Sendable, Equatable {
        public var rule: String
        public var count: Int
    }

    /// Customers whose last_seen_at moved forward to a newer event.
    public var seen = 0
    /// Customers whose lead score was recomputed from their events.
    public var rescored = 0
    /// Customers whose lead score was decayed by the periodic refresh.
    public var decayed = 0
    /// True when the tick read every event (first tick, clock moved back, rules or scoring changed).
    public var fullPass = false
    /// Per rule, in rule order (rules that moved nobody included).
    public var moves: [Moves] = []

    public var moved: Int { moves.map(\.count).reduce(0, +) }
}

/// Lead scores and stage transitions, applied by the scheduler on every tick and by the simulator with a simulated
/// clock: every statement takes the tick's instant as a parameter. The server's clock is read once, for the
/// received mark below, which is about when events arrived, never about the tick's time.
///
/// Cost. A tick over a large population with few new events stays cheap because it reads only the *window* of
/// events that are new since the last tick: received since the last tick's received mark, or whose occurred_at has
/// come since the last tick's clock (simulations, events stored ahead of time). Both ranges use the block-range
/// indexes of migration 0009. The received mark is the real instant of the last tick held back to the start of the
/// oldest transaction then open in the database: events.received_at defaults to its transaction's start, so an
/// import that commits late still lands after the mark. (The scheduler's role must see the other sessions in
/// pg_stat_activity: the same role, or pg_read_all_stats. A session left idle in a transaction holds the mark back
/// and widens the window until it ends.)
///   - last_seen_at moves forward for the customers in the window;
///   - lead scores are recomputed exactly (sum of points × 0.5^(age / half-life)) for the customers in the window;
///     everyone else keeps the score stored as of their last_scored_at. Because decay is a common factor, a score
///     ages exactly by multiplying it by 0.5^(elapsed / half-life): the periodic refresh (`decayRefreshInterval`,
///     a day by default) does that for every customer with a non-zero score without reading any event. Between
///     refreshes a stored score, and the lead status it gives, can lag its decay by up to that interval;
///   - event rules read only the window; inactivity rules read one range of customers_stage_seen (the customers of
///     the from-stage last seen before the cutoff, who then move); score rules read the customers rescored this
///     tick and those who entered the from-stage at the last tick, and the whole from-stage only on a sweep (the
///     ticks that read every event, and the daily refresh tick, which also catches stages set by imports).
/// The first tick, a tick whose clock is earlier than the last one, and the first tick after `ciclo config apply`
/// changed the rules (or the scoring) read every event instead.
public struct LifecycleRules: Sendable {
    /// How often every stored score is aged to the clock (and score rules sweep their whole from-stage).
    public var decayRefreshInterval: TimeInterval

    public init(decayRefreshInterval: TimeInterval = 86_400) {
        self.decayRefreshInterval = decayRefreshInterval
    }

    /// Before any event: a window that starts here reads every event.
    static let beginning = Date(timeIntervalSince1970: -2_208_988_800)  // 1900-01-01

    /// The events a tick reads: occurred_at <= now, and received after `received` or occurred after `occurred`.
    struct Window {
        var received: Date
        var occurred: Date
        static let everything = Window(received: LifecycleRules.beginning, occurred: LifecycleRules.beginning)
    }

    struct State {
        var appliedAt: Date?
        var receivedMark: Date?
        var decayedAt: Date?
        var rescoreDue: Bool
        var fullPassDue: Bool
    }

    static let lockState = """
        SELECT applied_at, received_mark, decayed_at, rescore_due, full_pass_due FROM lifecycle_state FOR UPDATE
        """
    static let saveState = """
        UPDATE lifecycle_state SET applied_at = $1::timestamptz, received_mark = $2::timestamptz,
               decayed_at = $3::timestamptz, rescore_due = false, full_pass_due = false
        """
    /// The next tick's received mark: every event received at or before it is visible to this tick's statements,
    /// which run after this one. The real clock is right here: the mark is about arrival, not the tick's clock.
    static let receivedMark = """
        SELECT least(clock_timestamp(),
                     (SELECT min(xact_start) FROM pg_stat_activity
                      WHERE datname = current_database() AND backend_type = 'client backend'
                        AND pid <> pg_backend_pid() AND xact_start IS NOT NULL)) - interval '1 microsecond'
        """

    /// last_seen_at never moves back: an importer may have set it from a newer source. The window is two ranges,
    /// each served by its own index (an OR of the two would defeat both), as in every window statement.
    static let advanceLastSeen = """
        UPDATE customers c SET last_seen_at = w.seen
        FROM (SELECT customer_id, max(occurred_at) AS seen
              FROM (SELECT customer_id, occurred_at FROM events
                    WHERE received_at > $2::timestamptz AND occurred_at <= $1::timestamptz
                    UNION ALL
                    SELECT customer_id, occurred_at FROM events
                    WHERE occurred_at > $3::timestamptz AND occurred_at <= $1::timestamptz) e
              GROUP BY customer_id) w
        WHERE c.id = w.customer_id AND (c.last_seen_at IS NULL OR c.last_seen_at < w.seen)
        """

    /// Applies scoring, then the transition rules in order, in one transaction at the instant `now`.
    public func apply(now: Date, on conn: PostgresConnection) async throws -> LifecycleReport {
        try await conn.withTransaction { conn in
            let row = try await conn.query(Self.lockState).single()
            // The tick's statements are short index ranges; compiling them (JIT) costs more than running them.
            try await conn.query("SET LOCAL jit = off")
            let state = State(
                appliedAt: try row.decode(Date?.self, at: 0), receivedMark: try row.decode(Date?.self, at: 1),
                decayedAt: try row.decode(Date?.self, at: 2), rescoreDue: try row.decode(Bool.self, at: 3),
                fullPassDue: try row.decode(Bool.self, at: 4))
            let configuration = try await LifecycleStore().load(on: conn)
            // A clock earlier than the last tick's (a simulation started over) invalidates every "since the last
            // tick": read everything again.
            let clockForward = state.appliedAt.map { now >= $0 } ?? false
            let recent = Window(
                received: state.receivedMark ?? Self.beginning,
                occurred: state.appliedAt ?? Self.beginning)
            // Changed rules must see every event since each customer's stage change; scores and last_seen_at
            // need the full history only when the clock moved back (or scoring changed: rescoreAll).
            let window = clockForward ? recent : Window.everything
            let ruleWindow = state.fullPassDue ? Window.everything : window
            let rescoreAll = !clockForward || state.rescoreDue

            var report = LifecycleReport(fullPass: !clockForward || state.fullPassDue)
            let mark = try await conn.query(Self.receivedMark).single().decode(Date.self, at: 0)
            report.seen = try await conn.query(Self.advanceLastSeen, [now, window.received, window.occurred])
                .affectedRows

            let scoring = LeadScoreStatements(configuration.leadScoring)
            var rescored: [Int64] = []
            var decayedAt = state.decayedAt
            if rescoreAll {
                report.rescored = try await scoring.rescoreAll(now: now, on: conn)
                decayedAt = now
            } else {
                rescored = try await scoring.rescore(now: now, window: window, on: conn)
                report.rescored = rescored.count
                if decayedAt.map({ now < $0 || now.timeIntervalSince($0) >= decayRefreshInterval }) ?? true {
                    report.decayed = try await scoring.decay(now: now, on: conn)
                    decayedAt = now
                }
            }

            // A sweep (first tick, clock back, changed configuration, the periodic refresh) lets score rules read
            // their whole from-stage; other ticks only the customers whose score or stage just changed.
            let recentChanges = StageTransition.Recent(
                sweep: report.fullPass || rescoreAll || decayedAt != state.decayedAt, rescored: rescored,
                lastTick: state.appliedAt)
            // Every rule statement fetches its few candidates' rows by primary key (see StageTransition.move).
            try await conn.query("SET LOCAL enable_hashjoin = off")
            try await conn.query("SET LOCAL enable_mergejoin = off")
            for rule in configuration.transitions {
                let moved = try await StageTransition(rule: rule, configuration: configuration)
                    .apply(now: now, window: ruleWindow, recent: recentChanges, on: conn)
                report.moves.append(.init(rule: rule.name, count: moved))
            }
            try await conn.query("SET LOCAL enable_hashjoin = on")
            try await conn.query("SET LOCAL enable_mergejoin = on")
            try await conn.query(Self.saveState, [now, mark, decayedAt])
            return report
        }
    }
}
