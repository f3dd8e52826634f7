import CicloCampaigns
import Foundation
import Postgres

extension LifecycleStore {
    static let selectStages = """
        SELECT key, model, position, name, kpi, target, description, conversion_kinds
        FROM lifecycle_stages ORDER BY model, position
        """
    static let selectRules = """
        SELECT name, from_stage, to_stage, trigger, event_kind, event_filter, inactive_days, min_score
        FROM lifecycle_transition_rules ORDER BY position
        """
    static let selectPoints = "SELECT event_kind, points FROM lead_score_points"
    static let selectSettings = "SELECT key, value FROM settings WHERE key IN ('lead_scoring', 'global_holdout')"
    static let selectAttributes = "SELECT name, type FROM customer_attributes ORDER BY name"
    static let selectPolicy = """
        SELECT channel, max_sends, per_days, quiet_start::text, quiet_end::text FROM contact_policy ORDER BY channel
        """

    static let selectLimits = "SELECT provider, per_second, burst FROM provider_limits ORDER BY provider"

    /// The stored configuration. Models come back in name order, channels and attributes in name order.
    public func load(on conn: PostgresConnection) async throws -> LifecycleConfiguration {
        var configuration = LifecycleConfiguration(stages: [])
        for row in try await conn.query(Self.selectStages) {
            configuration.stages.append(.init(
                key: try row.decode(String.self, at: 0), model: try row.decode(String.self, at: 1),
                position: try row.decode(Int.self, at: 2), name: try row.decode(String.self, at: 3),
                description: try row.decode(String?.self, at: 6),
                objective: .init(
                    kpi: try row.decode(String.self, at: 4), target: try row.decode(Double.self, at: 5),
                    conversionKinds: try row.decode([String].self, at: 7))))
        }
        for row in try await conn.query(Self.selectRules) {
            configuration.transitions.append(try Self.rule(row))
        }
        var settings: [String: JSONB] = [:]
        for row in try await conn.query(Self.selectSettings) {
            settings[try row.decode(String.self, at: 0)] = try row.decode(JSONB.self, at: 1)
        }
        if let json = settings["lead_scoring"] {
            let stored = try json.decode(ScoringJSON.self)
            var points: [String: Double] = [:]
            for row in try await conn.query(Self.selectPoints) {
                points[try row.decode(String.self, at: 0)] = try row.decode(Double.self, at: 1)
            }
            configuration.leadScoring = .init(
                points: points, halfLifeDays: stored.halfLifeDays, mqlThreshold: stored.thresholds.mql,
                sqlThreshold: stored.thresholds.sql)
        }
        if let json = settings["global_holdout"] {
            let stored = try json.decode(HoldoutJSON.self)
            configuration.globalHoldout = .init(share: stored.share, salt: stored.salt)
        }
        var types: [String: AttributeCatalogue.AttributeType] = [:]
        for row in try await conn.query(Self.selectAttributes) {
            types[try row.decode(String.self, at: 0)] = AttributeCatalogue.AttributeType(
                rawValue: try row.decode(String.self, at: 1))
        }
        configuration.attributes = AttributeCatalogue(types)
        for row in try await conn.query(Self.selectPolicy) {
            var policy = LifecycleConfiguration.ChannelPolicy(channel: try row.decode(String.self, at: 0))
            if let max = try row.decode(Int?.self, at: 1), let per = try row.decode(Int?.self, at: 2) {
                policy.cap = .init(max: max, perDays: per)
            }
            if let start = try row.decode(String?.self, at: 3).flatMap(LifecycleConfiguration.TimeOfDay.init),
               let end = try row.decode(String?.self, at: 4).flatMap(LifecycleConfiguration.TimeOfDay.init) {
                policy.quietHours = .init(start: start, end: end)
            }
            configuration.contactPolicy.append(policy)
        }
        for row in try await conn.query(Self.selectLimits) {
            configuration.providerLimits.append(.init(
                channel: try row.decode(String.self, at: 0), perSecond: try row.decode(Double.self, at: 1),
                burst: try row.decode(Double.self, at: 2)))
        }
        return configuration
    }

    static func rule(_ row: PostgresRow) throws -> LifecycleConfiguration.TransitionRule {
        let name = try row.decode(String.self, at: 0)
        let trigger: LifecycleConfiguration.TransitionRule.Trigger
        switch try row.decode(String.self, at: 3) {
        case "event":
            // jsonb prints its own spacing; bring the filter back to the canonical form the file's parse gave.
            let filter = try row.decode(JSONB?.self, at: 5).map { json in
                try ConfigNode.parse(json.text, file: "lifecycle_transition_rules.\(name)").canonicalJSON()
            }
            trigger = .event(kind: try row.decode(String.self, at: 4), filter: filter)
        case "inactivity":
            trigger = .inactivity(days: try row.decode(Int.self, at: 6))
        default:
            trigger = .leadScore(atLeast: try row.decode(Double.self, at: 7))
        }
        return .init(name: name, from: try row.decode(String?.self, at: 1), to: try row.decode(String.self, at: 2),
                     trigger: trigger)
    }
}
