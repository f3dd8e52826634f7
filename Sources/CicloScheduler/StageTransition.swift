import CicloCampaigns
import Foundation
import Postgres

/// One transition rule as one statement: the candidates it selects are moved by an UPDATE ... FROM ... RETURNING
/// whose rows feed the INSERT into stage_transitions, so a move and its log row are never apart.
///
/// Parameters shared by every trigger: $1 the clock, $2 the target stage, $3 the stages moved from, $4 whether
/// customers without a stage are moved too (rules from `any`), $5 the rule's name; the trigger's own from $6.
struct StageTransition {
    var rule: LifecycleConfiguration.TransitionRule
    var fromStages: [String]
    var fromNone: Bool

    init(rule: LifecycleConfiguration.TransitionRule, configuration: LifecycleConfiguration) {
        self.rule = rule
        if let from = rule.from {
            fromStages = [from]
            fromNone = false
        } else {
            // `any`: the other stages of the target's model, or none; never another model's stages.
            let model = configuration.stage(rule.to)?.model
            fromStages = configuration.stages.filter { $0.model == model && $0.key != rule.to }.map(\.key)
            fromNone = true
        }
    }

    static let inFromStage = "(c.stage = ANY($3::text[]) OR ($4::bool AND c.stage IS NULL))"

    /// A customer moves at most once per tick: not if its stage already changed at this clock (an earlier rule, or
    /// an earlier tick at the same clock). The stage is checked again in case another writer changed it since the
    /// candidates were read. LifecycleRules runs these with hash and merge joins off: the planner cannot estimate
    /// how few candidates a rule has (stage and last_seen_at are correlated), and would otherwise read the whole
    /// customers table to match a handful of ids instead of fetching them by primary key.
    static func move(candidates: String) -> String {
        """
        WITH candidates AS (
        \(candidates)
        ), moved AS (
            UPDATE customers c SET stage = $2::text, stage_changed_at = $1::timestamptz
            FROM candidates m
            WHERE c.id = m.id AND c.stage IS NOT DISTINCT FROM m.stage
              AND c.stage_changed_at IS DISTINCT FROM $1::timestamptz
            RETURNING c.id, m.stage AS from_stage
        )
        INSERT INTO stage_transitions (customer_id, from_stage, to_stage, rule, at)
        SELECT id, from_stage, $2::text, $5::text, $1::timestamptz FROM moved
        """
    }

    /// Customers with an event of the kind ($6) in the window ($7 received, $8 occurred) that occurred after they
    /// entered their stage and passes the payload filter (its values bound from $9).
    /// The window is two ranges: (kind, received_at) of events_kind_received, and occurred_at of the BRIN index.
    static let eventCandidates = """
        SELECT DISTINCT c.id, c.stage
        FROM (SELECT customer_id, payload, occurred_at FROM events
              WHERE kind = $6::text AND received_at > $7::timestamptz AND occurred_at <= $1::timestamptz
              UNION ALL
              SELECT customer_id, payload, occurred_at FROM events
              WHERE kind = $6::text AND occurred_at > $8::timestamptz AND occurred_at <= $1::timestamptz) e
        JOIN customers c ON c.id = e.customer_id
        WHERE (c.stage_changed_at IS NULL OR e.occurred_at > c.stage_changed_at)
          AND \(inFromStage)
        """

    /// Customers whose last activity is $6 days or more before the clock. Activity is last_seen_at (which the tick
    /// keeps up with events); when it lies after the clock (a simulation over the past), the last event up to the
    /// clock; with neither, the customer's creation. Each arm of the OR is a range of customers_stage_seen, so the
    /// statement reads the customers that qualify, not the whole stage.
    static let inactivityCandidates = """
        SELECT c.id, c.stage FROM customers c
        WHERE c.stage_changed_at IS DISTINCT FROM $1::timestamptz
          AND ((c.stage = ANY($3::text[]) AND c.last_seen_at <= \(cutoff))
            OR (c.stage = ANY($3::text[]) AND c.last_seen_at IS NULL AND c.created_at <= \(cutoff))
            OR (c.stage = ANY($3::text[]) AND c.last_seen_at > $1::timestamptz AND \(activityBeforeClock) <= \(cutoff))
            OR ($4::bool AND c.stage IS NULL
                AND CASE WHEN c.last_seen_at > $1::timestamptz THEN \(activityBeforeClock)
                         ELSE coalesce(c.last_seen_at, c.created_at) END <= \(cutoff)))
        """

    static let cutoff = "$1::timestamptz - make_interval(days => $6::int4)"

    /// For a customer last seen after the clock: the last event up to the clock, or its creation.
    static let activityBeforeClock = """
        coalesce((SELECT max(e.occurred_at) FROM events e
                  WHERE e.customer_id = c.id AND e.occurred_at <= $1::timestamptz), c.created_at)
        """

    /// Customers whose stored lead score is at least $6.
    static let scoreCandidates = """
        SELECT c.id, c.stage FROM customers c
        WHERE \(inFromStage) AND c.stage_changed_at IS DISTINCT FROM $1::timestamptz
          AND c.lead_score >= $6::float8::numeric
        """

    /// A score only rises when new events rescore it, so between sweeps only the customers rescored this tick ($7)
    /// and those who entered a from-stage at the last tick ($8, through stage_transitions_cohort) can newly qualify.
    /// A sweep (see LifecycleRules) reads the whole stage, which also catches stages set by other writers.
    static let newScoreCandidates = scoreCandidates + """

          AND c.id IN (SELECT unnest($7::int8[])
                       UNION
                       SELECT t.customer_id FROM stage_transitions t
                       WHERE t.to_stage = ANY($3::text[]) AND t.at = $8::timestamptz)
        """

    static let moveOnInactivity = move(candidates: inactivityCandidates)
    static let moveOnScore = move(candidates: scoreCandidates)
    static let moveOnNewScore = move(candidates: newScoreCandidates)

    /// What the tick knows that narrows score rules between sweeps.
    struct Recent {
        /// True on a sweep: score rules read their whole from-stage.
        var sweep: Bool
        /// Customers whose score this tick rewrote from new events.
        var rescored: [Int64]
        /// The last tick's clock: customers who entered a stage then.
        var lastTick: Date?
    }

    /// Moves the rule's customers; returns how many moved.
    func apply(now: Date, window: LifecycleRules.Window, recent: Recent, on conn: PostgresConnection)
        async throws -> Int
    {
        var parameters: [any PostgresEncodable] = [now, rule.to, fromStages, fromNone, rule.name]
        let sql: String
        switch rule.trigger {
        case .event(let kind, _):
            var builder = SQLBuilder(firstIndex: 9)
            let filter = try rule.payloadFilter()?.sql(payload: "e.payload", into: &builder) ?? "true"
            sql = Self.move(candidates: Self.eventCandidates + "\n  AND (\(filter))")
            parameters += [kind, window.received, window.occurred]
            parameters += builder.parameters
        case .inactivity(let days):
            sql = Self.moveOnInactivity
            parameters.append(days)
        case .leadScore(let score):
            parameters.append(score)
            if recent.sweep {
                sql = Self.moveOnScore
            } else {
                sql = Self.moveOnNewScore
                parameters += [recent.rescored, recent.lastTick]
            }
        }
        return try await conn.query(sql, parameters).affectedRows
    }
}
