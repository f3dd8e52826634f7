import Foundation
import Postgres

/// `ciclo campaign launch`: marks an ad hoc campaign launched. The scheduler's leader enqueues it on its next tick,
/// so every decision is still taken by the one process that applies the caps in order.
public struct Launcher: Sendable {
    public enum Problem: Error, CustomStringConvertible {
        case unknown(String)
        case notAdHoc(String, kind: String)
        case notRecurring(String, kind: String)
        case notActive(String, status: String)
        case expired(String, at: Date)

        public var description: String {
            switch self {
            case .unknown(let key): return "there is no campaign \"\(key)\"; `ciclo campaign list` shows them"
            case .notAdHoc(let key, let kind): return "campaign \(key) is a \(kind) campaign; only ad hoc campaigns are launched by hand"
            case .notRecurring(let key, let kind):
                return "campaign \(key) is of kind \(kind); only recurring cycles run out of schedule"
            case .notActive(let key, let status): return "campaign \(key) is \(status); resume it first"
            case .expired(let key, let at):
                return "campaign \(key) ended at \(ISO8601DateFormatter().string(from: at)); it would send nothing"
            }
        }
    }

    public init() {}

    static let launchSQL = """
        UPDATE campaigns SET launches = launches + 1, launched_at = $2
        WHERE key = $1 AND kind = 'adhoc' AND status = 'active'
          AND ((definition #>> '{adhoc,expires_at}') IS NULL OR (definition #>> '{adhoc,expires_at}')::timestamptz > $2)
        RETURNING launches
        """
    static let describeSQL = "SELECT kind, status, (definition #>> '{adhoc,expires_at}')::timestamptz FROM campaigns WHERE key = $1"

    /// Returns the launch number (the occasion the scheduler enqueues under).
    public func launch(key: String, at now: Date, on conn: PostgresConnection) async throws -> Int {
        if let row = try await conn.query(Self.launchSQL, [key, now]).first { return try row.decode(at: 0) }
        guard let row = try await conn.query(Self.describeSQL, [key]).first else { throw Problem.unknown(key) }
        let kind: String = try row.decode(at: 0)
        let status: String = try row.decode(at: 1)
        if kind != "adhoc" { throw Problem.notAdHoc(key, kind: kind) }
        if status != "active" { throw Problem.notActive(key, status: status) }
        if let expiry: Date = try row.decode(at: 2) { throw Problem.expired(key, at: expiry) }
        throw Problem.unknown(key)
    }
}

/// `ciclo campaign run`: a recurring cycle's pass now, out of its schedule, for an operator who will not wait for the
/// next slot (a demo, a fixed segment, a paused week made up). The scheduler's leader runs it on its next tick, with
/// every rule as usual (a cooldown still holds), and then moves the schedule to its next slot after now.
public struct CycleRunner: Sendable {
    public init() {}

    /// Moves the next run to now.
    static let runNowSQL = """
        UPDATE campaigns SET next_run_at = $2
        WHERE key = $1 AND kind = 'recurring' AND status = 'active'
          AND ((definition ->> 'ends_at') IS NULL OR (definition ->> 'ends_at')::timestamptz > $2)
        RETURNING id
        """
    static let describeSQL = "SELECT kind, status, (definition ->> 'ends_at')::timestamptz FROM campaigns WHERE key = $1"

    public func runNow(key: String, at now: Date, on conn: PostgresConnection) async throws {
        if try await !conn.query(Self.runNowSQL, [key, now]).isEmpty { return }
        guard let row = try await conn.query(Self.describeSQL, [key]).first else { throw Launcher.Problem.unknown(key) }
        let kind: String = try row.decode(at: 0)
        let status: String = try row.decode(at: 1)
        if kind != "recurring" { throw Launcher.Problem.notRecurring(key, kind: kind) }
        if status != "active" { throw Launcher.Problem.notActive(key, status: status) }
        if let end: Date = try row.decode(at: 2) { throw Launcher.Problem.expired(key, at: end) }
        throw Launcher.Problem.unknown(key)
    }
}
