import Foundation
import Postgres

/// The programme-wide parts of a report: coverage, the automated/manual mix, stage objectives, stage transitions
/// and cohort retention. Each is one set-based statement; $1 stage filter (null: all), then each its own.
struct Overview {
    let scope: Report.Scope
    let now: Date

    /// The end of the report's range: the day after `to`, or now.
    var end: String {
        if let to = scope.to { return to + " 24:00:00+00" }
        return ISO8601DateFormatter().string(from: now)
    }

    /// Reachable: consent granted on some channel that is not suppressed. Active: seen (or created) within
    /// $3 days. Contacted: a sent delivery within $2 days (deliveries_customer). Per current stage.
    static let coverageSQL = """
        SELECT coalesce(c.stage, '(none)'), count(*),
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM deliveries d
                   WHERE d.customer_id = c.id AND d.outcome = 'sent'
                     AND d.finished_at > $4::timestamptz - $2::int4 * interval '1 day'
                     AND d.finished_at <= $4::timestamptz))
        FROM customers c
        WHERE ($1::text IS NULL OR c.stage = $1::text)
          AND coalesce(c.last_seen_at, c.created_at) > $4::timestamptz - $3::int4 * interval '1 day'
          AND EXISTS (SELECT 1 FROM consents s
                      WHERE s.customer_id = c.id AND s.granted
                        AND NOT EXISTS (SELECT 1 FROM suppressions x
                                        WHERE x.customer_id = c.id AND x.channel = s.channel))
        GROUP BY 1 ORDER BY 1
        """

    /// Sends by campaign kind over the range ($2, $3 days).
    static let mixSQL = """
        SELECT coalesce(sum(r.sent) FILTER (WHERE k.kind IN ('recurring', 'trigger', 'experience')), 0)::int8,
               coalesce(sum(r.sent) FILTER (WHERE k.kind = 'adhoc'), 0)::int8
        FROM report_rollups r JOIN campaigns k ON k.id = r.campaign_id
        WHERE ($1::text IS NULL OR r.stage = $1::text)
          AND ($2::date IS NULL OR r.day >= $2::date) AND ($3::date IS NULL OR r.day <= $3::date)
        """

    /// Each stage's objective beside what the data says. Rates (targets below 1) are the stage's send
    /// conversion rate over the range; counts are the customers in the stage now (for marketing-qualified
    /// leads, those with a lead status).
    static let objectivesSQL = """
        SELECT s.key, s.kpi, s.target::float8,
               CASE WHEN s.target < 1
                    THEN (SELECT sum(r.converted)::float8 / nullif(sum(r.sent), 0) FROM report_rollups r
                          WHERE r.stage = s.key AND ($2::date IS NULL OR r.day >= $2::date)
                            AND ($3::date IS NULL OR r.day <= $3::date))
                    WHEN s.kpi = 'marketing_qualified_leads'
                    THEN (SELECT count(*)::float8 FROM customers c WHERE c.stage = s.key AND c.lead_status IS NOT NULL)
                    ELSE (SELECT count(*)::float8 FROM customers c WHERE c.stage = s.key) END,
               CASE WHEN s.target < 1 THEN 'conversion rate of sends in the stage'
                    WHEN s.kpi = 'marketing_qualified_leads' THEN 'customers in the stage with a lead status'
                    ELSE 'customers in the stage now' END
        FROM lifecycle_stages s
        WHERE $1::text IS NULL OR s.key = $1::text
        ORDER BY s.model, s.position
        """

    /// Moves between stages in the range ($2 from, $3 end), served by stage_transitions_cohort.
    static let transitionsSQL = """
        SELECT from_stage, to_stage, count(*) FROM stage_transitions
        WHERE ($1::text IS NULL OR to_stage = $1::text OR from_stage = $1::text)
          AND ($2::date IS NULL OR at >= $2::date) AND at < $3::timestamptz
        GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2
        """

    /// Weekly cohorts of entries into a stage ($2 from, $3 end) and the share still in it after 1, 2, 4 and
    /// 8 weeks; a share is null until every member has been in for that long.
    static let cohortsSQL = """
        WITH entries AS (
            SELECT t.to_stage AS stage, t.at,
                   (SELECT min(n.at) FROM stage_transitions n
                    WHERE n.customer_id = t.customer_id AND n.at > t.at) AS left_at
            FROM stage_transitions t
            WHERE ($1::text IS NULL OR t.to_stage = $1::text)
              AND ($2::date IS NULL OR t.at >= $2::date) AND t.at < $3::timestamptz
        )
        SELECT stage, date_trunc('week', at AT TIME ZONE 'UTC')::date::text AS week, count(*),
               \([1, 2, 4, 8].map { weeks in
                   """
                   CASE WHEN bool_and(at + interval '\(weeks) weeks' <= $3::timestamptz)
                        THEN (count(*) FILTER (WHERE left_at IS NULL OR left_at > at + interval '\(weeks) weeks'))::float8
                             / count(*) END
                   """
               }.joined(separator: ",\n       "))
        FROM entries GROUP BY 1, 2 ORDER BY 1, 2
        """

    func load(into report: inout Report, on conn: PostgresConnection) async throws {
        let stage = scope.stage
        report.coverage = try await conn.query(
            Self.coverageSQL, [stage, scope.coverageDays, scope.activeDays, end]
        ).map { row in
            let reachable: Int = try row.decode(at: 1)
            let contacted: Int = try row.decode(at: 2)
            return Report.Coverage(
                stage: try row.decode(at: 0), reachable: reachable, contacted: contacted,
                rate: reachable > 0 ? Double(contacted) / Double(reachable) : nil)
        }
        let mix = try await conn.query(Self.mixSQL, [stage, scope.from, scope.to]).single()
        let automated: Int = try mix.decode(at: 0)
        let manual: Int = try mix.decode(at: 1)
        let share = automated + manual > 0 ? Double(automated) / Double(automated + manual) : nil
        report.mix = Report.Mix(
            automatedSends: automated, manualSends: manual, automatedShare: share, target: 0.85,
            onTarget: share.map { $0 >= 0.85 })
        report.objectives = try await conn.query(Self.objectivesSQL, [stage, scope.from, scope.to]).map { row in
            let target: Double = try row.decode(at: 2)
            let actual: Double? = try row.decode(at: 3)
            return Report.Objective(
                stage: try row.decode(at: 0), kpi: try row.decode(at: 1), target: target, actual: actual,
                basis: try row.decode(at: 4), met: actual.map { $0 >= target })
        }
        report.transitions = try await conn.query(
            Self.transitionsSQL, [stage, scope.from, end]
        ).map { row in
            Report.Transition(from: try row.decode(at: 0), to: try row.decode(at: 1), customers: try row.decode(at: 2))
        }
        report.cohorts = try await conn.query(Self.cohortsSQL, [stage, scope.from, end]).map { row in
            var retained: [String: Double?] = [:]
            for (i, weeks) in [1, 2, 4, 8].enumerated() {
                retained["\(weeks)w"] = try row.decode(Double?.self, at: 3 + i)
            }
            return Report.Cohort(
                stage: try row.decode(at: 0), week: try row.decode(at: 1), entered: try row.decode(at: 2),
                retained: retained)
        }
    }
}
