import Foundation
import Postgres

/// The rules that hold across all campaigns of a channel: the frequency cap, quiet hours, and the global holdout.
/// Read from the database at the start of every tick, so `ciclo config apply` takes effect without a restart.
public struct ContactPolicy: Sendable, Equatable {
    public struct Cap: Sendable, Equatable {
        public var maxSends: Int
        public var perDays: Int
    }

    /// Local wall-clock times, "HH:MM:SS"; start after end wraps midnight (21:00 to 08:00).
    public struct QuietHours: Sendable, Equatable {
        public var start: String
        public var end: String
    }

    public struct Channel: Sendable, Equatable {
        public var cap: Cap?
        public var quietHours: QuietHours?
    }

    public var channels: [String: Channel] = [:]
    public var globalHoldout: (share: Double, salt: String)?

    public init() {}

    public static func == (a: ContactPolicy, b: ContactPolicy) -> Bool {
        a.channels == b.channels && a.globalHoldout?.share == b.globalHoldout?.share
            && a.globalHoldout?.salt == b.globalHoldout?.salt
    }

    static let channelsSQL = """
        SELECT channel, max_sends, per_days, quiet_start::text, quiet_end::text FROM contact_policy
        """
    static let globalHoldoutSQL = """
        SELECT (value->>'share')::float8, value->>'salt' FROM settings WHERE key = 'global_holdout'
        """

    public static func load(on conn: PostgresConnection) async throws -> ContactPolicy {
        var policy = ContactPolicy()
        for row in try await conn.query(channelsSQL) {
            let maxSends: Int? = try row.decode(at: 1)
            let perDays: Int? = try row.decode(at: 2)
            let start: String? = try row.decode(at: 3)
            let end: String? = try row.decode(at: 4)
            policy.channels[try row.decode(at: 0)] = Channel(
                cap: maxSends.flatMap { max in perDays.map { Cap(maxSends: max, perDays: $0) } },
                quietHours: start.flatMap { s in end.map { QuietHours(start: s, end: $0) } })
        }
        if let row = try await conn.query(globalHoldoutSQL).first {
            let share: Double? = try row.decode(at: 0)
            let salt: String? = try row.decode(at: 1)
            if let share, share > 0 { policy.globalHoldout = (share, salt ?? "global") }
        }
        return policy
    }
}
