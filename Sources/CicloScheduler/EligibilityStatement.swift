import CicloCampaigns
import Foundation
import Postgres

/// One campaign pass as one SQL statement: select the candidates, apply every eligibility rule in order, record
/// each decision in send_decisions and enqueue the sends, all set-based. A repeated or concurrent pass over the
/// same occasion conflicts on send_decisions' primary key and changes nothing; a queued or held-out decision is
/// final, so a logical send is enqueued at most once.
///
/// The rules, in order (the first that applies decides): suppression, consent, relevance window, cooldown (the
/// offer family's last send or holdout), the campaign's daily cap (experience guard rail), the channel's
/// frequency cap, the global holdout, the campaign holdout. Quiet hours do not exclude: they move the due time
/// to the window's opening in the customer's own zone, before the window and cap checks see it. Transactional
/// campaigns skip caps, quiet hours and holdouts; consent and suppression hold for every message.
struct EligibilityStatement {
    /// Where the candidates come from.
    enum Source {
        /// Recurring: every customer in the segment; the occasion is the customer's next cycle number.
        case cycle
        /// Ad hoc: every customer in the segment, once per launch.
        case launch(occasion: Int64)
        /// Trigger and experience: events of a kind with ids in (after, upTo], one occasion per event.
        case events(kind: String, after: Int64, upTo: Int64)
        /// The same, for simulated time: events that occurred in (after, now].
        case eventsByTime(kind: String, after: Date)
    }

    let campaignID: Int64
    let salt: String
    let campaign: Campaign
    let source: Source
    let now: Date
    let policy: ContactPolicy
    /// Dry runs record decisions but enqueue nothing.
    let enqueue: Bool
    /// Resolves named segments (the scheduler loads them before the pass).
    let segments: [String: Segment]

    /// The statement and its parameters: the fixed ones below, then whatever the segment and filters bind.
    func build() throws -> (sql: String, binds: [any PostgresEncodable]) {
        let marketing = !campaign.transactional
        let channelPolicy = marketing ? policy.channels[campaign.channel] : nil
        let globalHoldout = marketing ? policy.globalHoldout : nil
        let cooldownDays = campaign.recurring?.cooldownDays ?? campaign.experience?.cooldownDays ?? 0
        let delay = campaign.trigger?.delaySeconds ?? campaign.experience?.delaySeconds ?? 0
        let window = campaign.trigger?.windowSeconds ?? campaign.experience?.windowSeconds
        var binds: [any PostgresEncodable] = [
            campaignID,                                      // $1
            now,                                             // $2
            campaign.channel,                                // $3
            campaign.family,                                 // $4
            marketing,                                       // $5
            salt,                                            // $6
            marketing ? campaign.holdoutShare : 0.0,         // $7
            globalHoldout?.share ?? 0.0,                     // $8
            globalHoldout?.salt ?? "",                       // $9
            cooldownDays,                                    // $10
            channelPolicy?.cap?.maxSends,                    // $11
            channelPolicy?.cap?.perDays,                     // $12
            channelPolicy?.quietHours?.start,                // $13
            channelPolicy?.quietHours?.end,                  // $14
            campaign.variants.map(\.name),                   // $15
            campaign.key,                                    // $16
            campaign.priority,                               // $17
            JSONB(try variablesJSON()),                      // $18
            campaign.adhoc?.expiresAt,                       // $19
            campaign.experience?.capPerDay,                  // $20
            delay,                                           // $21
            window,                                          // $22
        ]
        var builder = SQLBuilder(firstIndex: binds.count + 1)
        let audience = try audienceSQL(into: &builder)
        let sql: String
        switch source {
        case .cycle:
            sql = Self.statement(source: Self.audienceSource(audience, expires: "$19::timestamptz"),
                                 prior: Self.cyclePrior, enqueue: enqueue)
        case .launch(let occasion):
            let occasionParam = builder.bind(.int(occasion))
            sql = Self.statement(source: Self.audienceSource(audience, expires: "$19::timestamptz"),
                                 prior: Self.occasionPrior(occasionParam), enqueue: enqueue)
        case .events(let kind, let after, let upTo):
            let range = "e.id > \(builder.bind(.int(after))) AND e.id <= \(builder.bind(.int(upTo)))"
            sql = Self.statement(source: try eventSource(kind: kind, range: range, audience: audience, into: &builder),
                                 prior: Self.occasionPrior("s.event_id"), enqueue: enqueue)
        case .eventsByTime(let kind, let after):
            let range = "e.occurred_at > \(builder.bind(.timestamp(after))) AND e.occurred_at <= $2::timestamptz"
            sql = Self.statement(source: try eventSource(kind: kind, range: range, audience: audience, into: &builder),
                                 prior: Self.occasionPrior("s.event_id"), enqueue: enqueue)
        }
        binds += builder.parameters
        return (sql, binds)
    }

    private func variablesJSON() throws -> String {
        let data = try JSONSerialization.data(withJSONObject: campaign.variables, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// The segment, minus every exclusion segment, over customers aliased `c`.
    private func audienceSQL(into builder: inout SQLBuilder) throws -> String {
        var parts = [try resolve(campaign.segment).sql(customer: "c", now: "$2::timestamptz", into: &builder)]
        for exclusion in campaign.exclude {
            parts.append("NOT (\(try resolve(exclusion).sql(customer: "c", now: "$2::timestamptz", into: &builder)))")
        }
        return parts.map { "(\($0))" }.joined(separator: " AND ")
    }

    private func resolve(_ reference: SegmentReference) throws -> Segment {
        switch reference {
        case .inline(let segment): return segment
        case .named(let name):
            guard let segment = segments[name] else { throw SchedulerError.unknownSegment(name, campaign: campaign.key) }
            return segment
        }
    }

    private func eventSource(kind: String, range: String, audience: String, into builder: inout SQLBuilder) throws
        -> String
    {
        let kindParam = builder.bind(.text(kind))
        var conditions = ["e.kind = \(kindParam)", range, audience]
        if let filter = campaign.trigger?.filter {
            conditions.append("(\(filter.sql(payload: "e.payload", into: &builder)))")
        }
        // Experience campaigns: the first tone whose condition the event passes picks the variant; an event that
        // matches no tone is not an experience this campaign speaks to.
        var tone = "NULL::text"
        if let tones = campaign.experience?.tones, !tones.isEmpty {
            let cases = tones.map { tone in
                "WHEN \(tone.when.sql(payload: "e.payload", into: &builder)) THEN \(builder.bind(.text(tone.variant)))"
            }
            tone = "CASE \(cases.joined(separator: " ")) END"
            conditions.append("(\(tone)) IS NOT NULL")
        }
        return """
            SELECT c.id AS customer_id, c.timezone, c.stage, e.id AS event_id,
                   e.occurred_at + $21::int4 * interval '1 second' AS base_due,
                   e.occurred_at + $22::int4 * interval '1 second' AS expires_at,
                   \(tone) AS tone_variant,
                   row_number() OVER (PARTITION BY c.id ORDER BY e.occurred_at, e.id) AS batch_rank
            FROM events e JOIN customers c ON c.id = e.customer_id
            WHERE \(conditions.joined(separator: "\n  AND "))
            """
    }

    private static func audienceSource(_ audience: String, expires: String) -> String {
        """
        SELECT c.id AS customer_id, c.timezone, c.stage, NULL::int8 AS event_id, $2::timestamptz AS base_due,
               \(expires) AS expires_at, NULL::text AS tone_variant, 1::int8 AS batch_rank
        FROM customers c
        WHERE \(audience)
        """
    }

    /// Recurring: the customer's last decision for the campaign. After a final one (queued, holdout) the next
    /// cycle opens; after an exclusion the same cycle is decided again.
    private static let cyclePrior = """
        LEFT JOIN LATERAL (
            SELECT d.occasion, d.outcome, d.reason, d.variant FROM send_decisions d
            WHERE d.campaign_id = $1 AND d.customer_id = s.customer_id
            ORDER BY d.occasion DESC LIMIT 1
        ) p ON true
        CROSS JOIN LATERAL (SELECT CASE WHEN p.outcome IS NULL THEN 1
                                        WHEN p.outcome IN ('queued', 'holdout', 'global_holdout') THEN p.occasion + 1
                                        ELSE p.occasion END AS occasion) o
        """

    /// Launches and events: the decision already taken for this very occasion, if any.
    private static func occasionPrior(_ occasion: String) -> String {
        """
        CROSS JOIN LATERAL (SELECT \(occasion)::int8 AS occasion) o
        LEFT JOIN send_decisions p ON p.campaign_id = $1 AND p.customer_id = s.customer_id AND p.occasion = o.occasion
        """
    }

    /// A fraction in [0, 1) from hashing the customer id with a seed taken from md5(salt): the same on every run,
    /// restart and cycle. hashint8extended works on the integer's value (not its bytes), so it does not depend on
    /// the server's byte order; PostgreSQL keeps it fixed across versions because hash partitioning depends on it.
    /// The seed is a function of parameters only, so the planner folds it into a constant: one md5 per pass, not
    /// one per customer (three md5 texts per customer cost about a second of CPU on 214,000 candidates).
    private static func share(_ salt: String) -> String {
        "((hashint8extended(s.customer_id, \(seed(salt))) & 4503599627370495)::float8 / 4503599627370496.0)"
    }

    /// A 64-bit hash seed from a salt expression.
    private static func seed(_ salt: String) -> String {
        "('x' || substr(md5(\(salt)), 1, 16))::bit(64)::int8"
    }

    private static func statement(source: String, prior: String, enqueue: Bool) -> String {
        let final = "('queued', 'holdout', 'global_holdout')"
        let jobs = enqueue ? """
            , jobs AS (
                INSERT INTO send_jobs (idempotency_key, campaign_id, customer_id, channel, priority, run_at, payload,
                                       expires_at)
                SELECT $16::text || ':' || w.customer_id || ':' || w.occasion, $1, w.customer_id, $3, $17::int2, w.due_at,
                       jsonb_build_object('variant', w.variant, 'variables', $18::jsonb, 'occasion', w.occasion),
                       w.expires_at
                FROM written w WHERE w.outcome = 'queued'
                ON CONFLICT (idempotency_key) DO NOTHING
                RETURNING 1
            )
            """ : ""
        let enqueued = enqueue ? "SELECT 'enqueued', count(*) FROM jobs" : "SELECT 'enqueued', 0::int8"
        return """
            WITH source AS (
            \(source)
            ), judged AS (
                -- Each derived value sits in its own lateral subquery fenced with OFFSET 0, so it is computed once
                -- per row: inlined, the planner would copy the expression (and its subqueries) into every use.
                SELECT s.customer_id, s.stage, s.expires_at, s.tone_variant, o.occasion,
                       p.occasion AS prior_occasion, p.outcome AS prior_outcome, p.reason AS prior_reason,
                       p.variant AS prior_variant, q.quiet_due, t.due_at, sup.reason AS suppression, x.outcome
                FROM source s
                \(prior)
                -- customers_timezone_known guarantees PostgreSQL knows every stored zone.
                CROSS JOIN LATERAL (SELECT s.timezone AS tz, s.base_due AT TIME ZONE s.timezone AS local_due OFFSET 0) l
                -- Quiet hours, in the customer's wall-clock time: a marketing send due inside them moves to the
                -- window's end that day (or the next day when the window wraps midnight and it is evening). The
                -- local time goes back through the zone's rules, so daylight saving is right.
                CROSS JOIN LATERAL (
                    SELECT CASE WHEN $5 AND $13::time IS NOT NULL AND
                                     CASE WHEN $13::time < $14::time
                                          THEN l.local_due::time >= $13::time AND l.local_due::time < $14::time
                                          ELSE l.local_due::time >= $13::time OR l.local_due::time < $14::time END
                                THEN ((l.local_due::date + CASE WHEN $13::time > $14::time AND l.local_due::time >= $13::time
                                                                THEN 1 ELSE 0 END) + $14::time) AT TIME ZONE l.tz
                           END AS quiet_due
                    OFFSET 0) q
                CROSS JOIN LATERAL (SELECT coalesce(q.quiet_due, s.base_due) AS due_at OFFSET 0) t
                LEFT JOIN suppressions sup ON sup.customer_id = s.customer_id AND sup.channel = $3
                LEFT JOIN consents con ON con.customer_id = s.customer_id AND con.channel = $3
                CROSS JOIN LATERAL (
                    SELECT CASE
                         WHEN sup.reason IS NOT NULL THEN 'suppressed'
                         WHEN con.granted IS NOT TRUE THEN 'no_consent'
                         WHEN s.expires_at IS NOT NULL AND t.due_at > s.expires_at THEN 'expired'
                         -- The cooldown and both caps probe send_decisions_contact (customer, due time; final
                         -- decisions only): one index for the three, so each decision adds one entry, not two.
                         WHEN $10::int4 > 0 AND (s.batch_rank > 1 OR EXISTS (
                                  SELECT 1 FROM send_decisions d
                                  WHERE d.offer_family = $4 AND d.customer_id = s.customer_id
                                    AND d.outcome IN ('queued', 'holdout', 'global_holdout')
                                    AND d.due_at > t.due_at - $10::int4 * interval '1 day'))
                              THEN 'cooldown'
                         WHEN $20::int4 IS NOT NULL AND s.batch_rank - 1 + (
                                  SELECT count(*) FROM send_decisions d
                                  WHERE d.campaign_id = $1 AND d.customer_id = s.customer_id AND d.outcome = 'queued'
                                    AND d.due_at > t.due_at - interval '1 day'
                                    AND d.due_at < t.due_at + interval '1 day') >= $20::int4
                              THEN 'capped'
                         -- The cap holds in every window of per_days that contains the send, so sends already
                         -- due up to per_days later (deferred, delayed) count too.
                         WHEN $5 AND $11::int4 IS NOT NULL AND s.batch_rank - 1 + (
                                  SELECT count(*) FROM send_decisions d
                                  WHERE d.customer_id = s.customer_id AND d.channel = $3 AND d.outcome = 'queued'
                                    AND d.marketing
                                    AND d.due_at > t.due_at - $12::int4 * interval '1 day'
                                    AND d.due_at < t.due_at + $12::int4 * interval '1 day') >= $11::int4
                              THEN 'capped'
                         WHEN $5 AND $8::float8 > 0 AND \(share("$9::text")) < $8::float8 THEN 'global_holdout'
                         WHEN $5 AND $7::float8 > 0 AND \(share("$6::text")) < $7::float8 THEN 'holdout'
                         ELSE 'queued'
                       END AS outcome
                    OFFSET 0) x
            ), chosen AS (
                -- Content rotation: the n-th cycle's variant is (hash + n) mod k, which never equals the previous
                -- cycle's while there are two or more; if the variant list changed, the previous one is skipped.
                SELECT j.*,
                       CASE j.outcome
                         WHEN 'suppressed' THEN j.suppression
                         WHEN 'queued' THEN CASE WHEN j.quiet_due IS NOT NULL THEN 'quiet_hours' END
                         WHEN 'expired' THEN CASE WHEN j.quiet_due IS NOT NULL THEN 'quiet_hours' END
                       END AS reason,
                       CASE WHEN j.outcome IN \(final) THEN coalesce(j.tone_variant, ($15::text[])[1 + (
                                r.base + CASE WHEN cardinality($15::text[]) > 1 AND ($15::text[])[1 + r.base] = j.prior_variant
                                              THEN 1 ELSE 0 END) % cardinality($15::text[])])
                            ELSE j.prior_variant END AS variant
                FROM judged j
                CROSS JOIN LATERAL (SELECT (((hashint8extended(j.customer_id, \(seed("$6::text || ':variant'"))) & 2147483647)
                                            + j.occasion) % cardinality($15::text[]))::int4 AS base) r
            ), written AS (
                INSERT INTO send_decisions (campaign_id, customer_id, occasion, channel, outcome, reason, variant,
                                            offer_family, marketing, due_at, expires_at, decided_at, idempotency_key,
                                            stage)
                SELECT $1, c.customer_id, c.occasion, $3, c.outcome, c.reason, c.variant, $4, $5, c.due_at,
                       c.expires_at, $2,
                       CASE WHEN c.outcome IN \(final) THEN $16::text || ':' || c.customer_id || ':' || c.occasion END,
                       c.stage
                FROM chosen c
                -- Only what changes is written: a decision already final, or the same exclusion again, is left.
                WHERE c.prior_occasion IS DISTINCT FROM c.occasion
                   OR (c.prior_outcome NOT IN \(final)
                       AND (c.prior_outcome, c.prior_reason) IS DISTINCT FROM (c.outcome, c.reason))
                ON CONFLICT (campaign_id, customer_id, occasion) DO UPDATE
                SET outcome = excluded.outcome, reason = excluded.reason, variant = excluded.variant,
                    due_at = excluded.due_at, expires_at = excluded.expires_at, decided_at = excluded.decided_at,
                    idempotency_key = excluded.idempotency_key, stage = excluded.stage,
                    -- The reporter folds holdouts by the transaction that made them final (0013_rollups.sql).
                    fold_xid = pg_current_xact_id()
                WHERE send_decisions.outcome NOT IN \(final)
                -- The jobs' key is rebuilt from the same parts rather than returned: the returned rows are kept in
                -- memory (or spilled to disk) until the jobs insert reads them.
                RETURNING customer_id, occasion, outcome, variant, due_at, expires_at
            )\(jobs)
            SELECT outcome, count(*) FROM written GROUP BY outcome
            UNION ALL \(enqueued)
            """
    }
}

public enum SchedulerError: Error, Sendable, CustomStringConvertible {
    case unknownSegment(String, campaign: String)
    case badDefinition(campaign: String, problem: String)

    public var description: String {
        switch self {
        case .unknownSegment(let name, let campaign):
            return "campaign \(campaign) names the segment \"\(name)\", which does not exist; apply it with `ciclo segment apply`"
        case .badDefinition(let campaign, let problem):
            return "campaign \(campaign) has a stored definition that no longer validates: \(problem)"
        }
    }
}
