import CicloCampaigns
import Foundation
import Postgres

/// Lead scores: the sum over a customer's scored events up to `now` of points × 0.5^(age in days / half-life),
/// kept in customers.lead_score as of customers.last_scored_at, rounded to six decimals, with lead_status from the
/// thresholds (null, mql, sql). See LifecycleRules for when each statement runs and what it costs.
struct LeadScoreStatements {
    var kinds: [String]
    var halfLifeDays: Double
    var mql: Double?
    var sql: Double?

    init(_ scoring: LifecycleConfiguration.LeadScoring?) {
        kinds = scoring.map { $0.points.keys.sorted() } ?? []
        // Without scoring there are no points rows, so the half-life multiplies nothing; 1 keeps the SQL defined.
        halfLifeDays = scoring?.halfLifeDays ?? 1
        mql = scoring?.mqlThreshold
        sql = scoring?.sqlThreshold
    }

    /// One event's decayed points; `e` is the event, `p` its lead_score_points row, $1 the clock, $2 the half-life.
    static let decayedPoints = """
        p.points::float8 * power(0.5::float8,
            extract(epoch FROM $1::timestamptz - e.occurred_at)::float8 / 86400.0 / $2::float8)
        """

    /// Writes `fresh(customer_id, score)`: a score and its status, only where something changed, so a second tick
    /// at the same clock writes nothing. A score already stored at this clock is only rewritten for a real change
    /// (new points), not for the last-digit difference between an aged score and the same score summed afresh.
    /// $3 and $4 are the mql and sql thresholds (null without scoring).
    static let writeFresh = """
        UPDATE customers c
        SET lead_score = f.score, lead_status = f.status, last_scored_at = $1::timestamptz
        FROM (SELECT customer_id, score,
                     CASE WHEN score >= $4::float8 THEN 'sql' WHEN score >= $3::float8 THEN 'mql' END AS status
              FROM fresh) f
        WHERE c.id = f.customer_id
          AND (c.last_scored_at IS DISTINCT FROM $1::timestamptz OR abs(c.lead_score - f.score) > 0.0001
               OR c.lead_status IS DISTINCT FROM f.status)
        """

    /// The customers with a scored event in the window, rescored from all their events up to the clock. The window
    /// is a range of events_kind_received and events_occurred_brin; each customer's events come from
    /// events_customer_kind_time. $5 the scored kinds, $6 and $7 the window's received and occurred bounds.
    static let rescoreWindow = """
        WITH touched AS (
            SELECT customer_id FROM events
            WHERE kind = ANY($5::text[]) AND received_at > $6::timestamptz AND occurred_at <= $1::timestamptz
            UNION
            SELECT customer_id FROM events
            WHERE kind = ANY($5::text[]) AND occurred_at > $7::timestamptz AND occurred_at <= $1::timestamptz
        ), fresh AS (
            SELECT t.customer_id, round(sum(\(decayedPoints))::numeric, 6) AS score
            FROM touched t
            JOIN events e ON e.customer_id = t.customer_id AND e.occurred_at <= $1::timestamptz
            JOIN lead_score_points p ON p.event_kind = e.kind
            GROUP BY t.customer_id
        )
        """ + writeFresh + "\nRETURNING c.id"

    /// Everyone from every event: customers with scored events, and those holding a score or status that no event
    /// supports any more (scoring changed or was removed).
    static let rescoreAll = """
        WITH sums AS (
            SELECT e.customer_id, round(sum(\(decayedPoints))::numeric, 6) AS score
            FROM events e JOIN lead_score_points p ON p.event_kind = e.kind
            WHERE e.occurred_at <= $1::timestamptz
            GROUP BY e.customer_id
        ), fresh AS (
            SELECT c.id AS customer_id, coalesce(s.score, 0) AS score
            FROM customers c LEFT JOIN sums s ON s.customer_id = c.id
            WHERE s.customer_id IS NOT NULL OR c.lead_score <> 0 OR c.lead_status IS NOT NULL
        )
        """ + writeFresh

    /// Ages every stored score to the clock without reading events: decay is a common factor of all its terms.
    /// Scores that round to zero drop out of later refreshes.
    static let decay = """
        WITH fresh AS (
            SELECT id AS customer_id,
                   round((lead_score::float8 * power(0.5::float8,
                       extract(epoch FROM $1::timestamptz - last_scored_at)::float8 / 86400.0 / $2::float8))::numeric,
                       6) AS score
            FROM customers
            WHERE lead_score <> 0 AND last_scored_at < $1::timestamptz
        )
        """ + writeFresh

    /// Rescores everyone; returns how many customers changed.
    func rescoreAll(now: Date, on conn: PostgresConnection) async throws -> Int {
        try await conn.query(Self.rescoreAll, [now, halfLifeDays, mql, sql]).affectedRows
    }

    /// Rescores the window's customers; returns the customers whose score or status changed.
    func rescore(now: Date, window: LifecycleRules.Window, on conn: PostgresConnection) async throws -> [Int64] {
        guard !kinds.isEmpty else { return [] }
        return try await conn.query(
            Self.rescoreWindow, [now, halfLifeDays, mql, sql, kinds, window.received, window.occurred]
        ).map { try $0.decode(Int64.self, at: 0) }
    }

    /// The periodic decay refresh; returns how many customers it touched.
    func decay(now: Date, on conn: PostgresConnection) async throws -> Int {
        try await conn.query(Self.decay, [now, halfLifeDays, mql, sql]).affectedRows
    }
}
