import CicloCampaigns
import Foundation
import Postgres

/// A configuration that cannot be stored as it is, such as one that drops a stage customers are still in.
public struct LifecycleStoreError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Stores a deployment's lifecycle configuration (`ciclo config apply`) and reads it back (`ciclo config show`,
/// the scheduler). Applying replaces the stages, transition rules, lead scoring, attribute catalogue, contact
/// policy and global holdout with the file's content in one transaction: all of it or nothing.
///
/// A stage that the file leaves out while customers are still in it, or a campaign that is not archived still
/// serves it, is not dropped: the whole apply is refused with an error naming the stage and who uses it, so the
/// operator decides (keep the stage, or move the customers and campaigns first). Nothing is removed silently.
public struct LifecycleStore: Sendable {
    public init() {}

    /// What an apply stored.
    public struct Summary: Sendable, Equatable {
        public var stages: Int
        public var transitions: Int
        public var scoredEventKinds: Int
        public var attributes: Int
        public var channels: Int
        public var globalHoldout: Bool
        public var providerLimits: Int

        public init(stages: Int, transitions: Int, scoredEventKinds: Int, attributes: Int, channels: Int,
                    globalHoldout: Bool, providerLimits: Int = 0) {
            self.stages = stages
            self.transitions = transitions
            self.scoredEventKinds = scoredEventKinds
            self.attributes = attributes
            self.channels = channels
            self.globalHoldout = globalHoldout
            self.providerLimits = providerLimits
        }
    }

    /// Serialises with the lifecycle tick (LifecycleRules locks the same row).
    static let lockState = "SELECT rescore_due FROM lifecycle_state FOR UPDATE"

    /// The dropped stages that are still in use, with how many customers are in each and which campaigns serve it.
    /// The count reads customers_stage_persona (stage is its leading column).
    static let stagesInUse = """
        SELECT s.key, (SELECT count(*) FROM customers c WHERE c.stage = s.key),
               ARRAY(SELECT k.key FROM campaigns k WHERE k.stage = s.key AND k.status <> 'archived' ORDER BY k.key)
        FROM unnest($1::text[]) AS s(key)
        """

    static let clear = [
        "DELETE FROM lifecycle_transition_rules",
        "DELETE FROM lifecycle_stages",
        "DELETE FROM lead_score_points",
        "DELETE FROM customer_attributes",
        "DELETE FROM contact_policy",
    ]

    static let insertStages = """
        INSERT INTO lifecycle_stages (key, model, position, name, kpi, target, description, conversion_kinds)
        SELECT key, model, position, name, kpi, target::numeric, description, string_to_array(kinds, ',')
        FROM unnest($1::text[], $2::text[], $3::int4[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
            AS t(key, model, position, name, kpi, target, description, kinds)
        """

    static let insertRules = """
        INSERT INTO lifecycle_transition_rules
            (position, name, from_stage, to_stage, trigger, event_kind, event_filter, inactive_days, min_score)
        SELECT ord, name, from_stage, to_stage, trigger, event_kind, event_filter::jsonb, inactive_days,
               min_score::numeric
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int4[], $8::text[])
            WITH ORDINALITY
            AS t(name, from_stage, to_stage, trigger, event_kind, event_filter, inactive_days, min_score, ord)
        """

    static let insertPoints = """
        INSERT INTO lead_score_points (event_kind, points)
        SELECT kind, points::numeric FROM unnest($1::text[], $2::text[]) AS t(kind, points)
        """

    static let insertAttributes = """
        INSERT INTO customer_attributes (name, type) SELECT * FROM unnest($1::text[], $2::text[])
        """

    static let insertPolicy = """
        INSERT INTO contact_policy (channel, max_sends, per_days, quiet_start, quiet_end)
        SELECT channel, max_sends, per_days, quiet_start::time, quiet_end::time
        FROM unnest($1::text[], $2::int4[], $3::int4[], $4::text[], $5::text[])
            AS t(channel, max_sends, per_days, quiet_start, quiet_end)
        """

    /// Limits not in the file go; a changed limit keeps the bucket's state, with no more tokens than the new burst.
    static let deleteLimits = "DELETE FROM provider_limits WHERE provider <> ALL ($1::text[])"
    static let upsertLimits = """
        INSERT INTO provider_limits AS p (provider, per_second, burst, tokens)
        SELECT provider, per_second, burst, burst
        FROM unnest($1::text[], $2::float8[], $3::float8[]) AS t(provider, per_second, burst)
        ON CONFLICT (provider) DO UPDATE
        SET per_second = excluded.per_second, burst = excluded.burst, tokens = least(p.tokens, excluded.burst)
        WHERE (p.per_second, p.burst) IS DISTINCT FROM (excluded.per_second, excluded.burst)
        """

    static let upsertSetting = """
        INSERT INTO settings (key, value) VALUES ($1, $2::jsonb)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()
        WHERE settings.value IS DISTINCT FROM excluded.value
        """

    static let deleteSetting = "DELETE FROM settings WHERE key = $1"

    /// A scoring change rescores everyone from the events; a rule change re-reads every event since each customer's
    /// stage change. The next tick does it (LifecycleRules), not this transaction.
    static let markDue = """
        UPDATE lifecycle_state SET rescore_due = rescore_due OR $1, full_pass_due = full_pass_due OR $2
        """

    /// Replaces the stored configuration with `configuration`, in one transaction.
    @discardableResult
    public func apply(_ configuration: LifecycleConfiguration, on conn: PostgresConnection) async throws -> Summary {
        try await conn.withTransaction { conn in
            try await conn.query(Self.lockState)
            let previous = try await load(on: conn)
            try await refuseDroppingStagesInUse(previous: previous, next: configuration, on: conn)
            for statement in Self.clear { try await conn.query(statement) }
            try await insertStages(configuration.stages, on: conn)
            try await insertRules(configuration.transitions, on: conn)
            try await storeScoring(configuration.leadScoring, on: conn)
            let attributes = configuration.attributes.types.keys.sorted()
            try await conn.query(Self.insertAttributes,
                                 [attributes, attributes.map { configuration.attributes.types[$0]!.rawValue }])
            try await insertPolicy(configuration.contactPolicy, on: conn)
            try await storeProviderLimits(configuration.providerLimits, on: conn)
            if let holdout = configuration.globalHoldout {
                try await conn.query(Self.upsertSetting, ["global_holdout", try JSONB(encoding: HoldoutJSON(holdout))])
            } else {
                try await conn.query(Self.deleteSetting, ["global_holdout"])
            }
            try await conn.query(Self.markDue, [
                previous.leadScoring != configuration.leadScoring,
                previous.transitions != configuration.transitions,
            ])
            return Summary(
                stages: configuration.stages.count, transitions: configuration.transitions.count,
                scoredEventKinds: configuration.leadScoring?.points.count ?? 0,
                attributes: attributes.count, channels: configuration.contactPolicy.count,
                globalHoldout: configuration.globalHoldout != nil, providerLimits: configuration.providerLimits.count)
        }
    }

    private func refuseDroppingStagesInUse(
        previous: LifecycleConfiguration, next: LifecycleConfiguration, on conn: PostgresConnection
    ) async throws {
        let dropped = previous.stages.map(\.key).filter { next.stage($0) == nil }
        guard !dropped.isEmpty else { return }
        for row in try await conn.query(Self.stagesInUse, [dropped]) {
            let key = try row.decode(String.self, at: 0)
            let customers = try row.decode(Int.self, at: 1)
            let campaigns = try row.decode([String].self, at: 2)
            guard customers > 0 || !campaigns.isEmpty else { continue }
            var users: [String] = []
            if customers > 0 { users.append("\(customers) customer\(customers == 1 ? " is" : "s are") in it") }
            if !campaigns.isEmpty {
                let one = campaigns.count == 1
                users.append("campaign\(one ? "" : "s") \(campaigns.joined(separator: ", ")) serve\(one ? "s" : "") it")
            }
            throw LifecycleStoreError(description: """
                The configuration drops stage "\(key)" but \(users.joined(separator: " and ")); keep the stage in \
                the file, or move them to another stage first
                """)
        }
    }

    private func insertStages(_ stages: [LifecycleConfiguration.Stage], on conn: PostgresConnection) async throws {
        try await conn.query(Self.insertStages, [
            stages.map(\.key), stages.map(\.model), stages.map(\.position), stages.map(\.name),
            stages.map(\.objective.kpi), stages.map { "\($0.objective.target)" }, stages.map(\.description),
            // Kinds are keys (letters, digits, _ and -): joined by commas, split again in the statement, because
            // unnest flattens an array of arrays.
            stages.map { $0.objective.conversionKinds.joined(separator: ",") },
        ])
    }

    private func insertRules(_ rules: [LifecycleConfiguration.TransitionRule], on conn: PostgresConnection)
        async throws
    {
        var kinds: [String?] = [], filters: [String?] = [], days: [Int?] = [], scores: [String?] = []
        var triggers: [String] = []
        for rule in rules {
            var kind: String?, filter: String?, inactive: Int?, score: String?
            switch rule.trigger {
            case .event(let eventKind, let eventFilter):
                triggers.append("event")
                (kind, filter) = (eventKind, eventFilter)
            case .inactivity(let value):
                triggers.append("inactivity")
                inactive = value
            case .leadScore(let value):
                triggers.append("score")
                score = "\(value)"
            }
            kinds.append(kind)
            filters.append(filter)
            days.append(inactive)
            scores.append(score)
        }
        try await conn.query(Self.insertRules, [
            rules.map(\.name), rules.map(\.from), rules.map(\.to), triggers, kinds, filters, days, scores,
        ])
    }

    private func storeScoring(_ scoring: LifecycleConfiguration.LeadScoring?, on conn: PostgresConnection)
        async throws
    {
        guard let scoring else {
            try await conn.query(Self.deleteSetting, ["lead_scoring"])
            return
        }
        let kinds = scoring.points.keys.sorted()
        try await conn.query(Self.insertPoints, [kinds, kinds.map { "\(scoring.points[$0]!)" }])
        try await conn.query(Self.upsertSetting, ["lead_scoring", try JSONB(encoding: ScoringJSON(scoring))])
    }

    private func storeProviderLimits(_ limits: [LifecycleConfiguration.ProviderLimit], on conn: PostgresConnection)
        async throws
    {
        let channels = limits.map(\.channel)
        try await conn.query(Self.deleteLimits, [channels])
        try await conn.query(Self.upsertLimits, [channels, limits.map(\.perSecond), limits.map(\.burst)])
    }

    private func insertPolicy(_ policies: [LifecycleConfiguration.ChannelPolicy], on conn: PostgresConnection)
        async throws
    {
        try await conn.query(Self.insertPolicy, [
            policies.map(\.channel), policies.map { $0.cap?.max }, policies.map { $0.cap?.perDays },
            policies.map { $0.quietHours?.start.description }, policies.map { $0.quietHours?.end.description },
        ])
    }
}

/// settings 'lead_scoring': {"half_life_days": 30, "thresholds": {"mql": 50, "sql": 100}}.
struct ScoringJSON: Codable {
    struct Thresholds: Codable {
        var mql: Double
        var sql: Double
    }

    var halfLifeDays: Double
    var thresholds: Thresholds

    enum CodingKeys: String, CodingKey {
        case halfLifeDays = "half_life_days"
        case thresholds
    }

    init(_ scoring: LifecycleConfiguration.LeadScoring) {
        halfLifeDays = scoring.halfLifeDays
        thresholds = Thresholds(mql: scoring.mqlThreshold, sql: scoring.sqlThreshold)
    }
}

/// settings 'global_holdout': {"share": 0.02, "salt": "..."}.
struct HoldoutJSON: Codable {
    var share: Double
    var salt: String

    init(_ holdout: LifecycleConfiguration.GlobalHoldout) {
        share = holdout.share
        salt = holdout.salt
    }
}
