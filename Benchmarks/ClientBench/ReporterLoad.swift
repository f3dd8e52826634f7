import Foundation
import Postgres

/// The reporter benchmark's raw outcomes, generated set-based in SQL: a quarter deliveries, 65% responses, 7.5%
/// conversion events and 2.5% holdout decisions, over eight campaigns of every kind and 30 days, with a customer
/// for every ten outcomes.
struct ReporterLoad {
    let outcomes: Int

    var deliveries: Int { outcomes / 4 }
    var holdouts: Int { outcomes / 40 }
    var events: Int { outcomes * 3 / 40 }
    var responses: Int { outcomes - deliveries - holdouts - events }
    var customers: Int { max(outcomes / 10, 1_000) }

    static let resetSQL = """
        TRUNCATE send_decisions;
        TRUNCATE deliveries, responses, events, report_rollups, report_conversions,
                 report_pending_responses, customers, campaigns RESTART IDENTITY CASCADE;
        UPDATE report_cursors SET xid = '0', id = 0, folded = 0;
        """

    static let customersSQL = """
        INSERT INTO customers (external_id, stage, last_seen_at, created_at)
        SELECT 'b' || g, (ARRAY['new', 'active', 'at_risk', 'churned', 'reactivated'])[1 + g % 5],
               timestamptz '2026-05-31' - (g % 60) * interval '1 day', timestamptz '2026-01-01'
        FROM generate_series(1, $1::int4) g
        """
    static let campaignsSQL = """
        INSERT INTO campaigns (key, name, kind, channel, status, stage, attribution_days, holdout_share)
        SELECT 'bench-' || g, 'Bench ' || g,
               (ARRAY['recurring', 'recurring', 'recurring', 'trigger', 'trigger', 'experience', 'adhoc', 'adhoc'])[g],
               'email', 'active', (ARRAY['new', 'active', 'at_risk', 'churned', 'reactivated'])[1 + g % 5],
               7, 0.1
        FROM generate_series(1, 8) g
        """
    /// Deliveries spread over May 2026, 97% sent; the customer's stage recorded as the worker records it. Ids are
    /// 1...n after RESTART IDENTITY, so customers and campaigns are named by arithmetic instead of joins.
    static let deliveriesSQL = """
        INSERT INTO deliveries (job_id, idempotency_key, campaign_id, customer_id, channel, outcome, variant, stage,
                                finished_at)
        SELECT g, 'b-' || g, 1 + g % 8, c, 'email', CASE WHEN g % 33 = 0 THEN 'suppressed' ELSE 'sent' END,
               CASE WHEN g % 2 = 0 THEN 'A' ELSE 'B' END,
               (ARRAY['new', 'active', 'at_risk', 'churned', 'reactivated'])[1 + c % 5],
               timestamptz '2026-05-01' + (g % 30) * interval '1 day' + (g % 86400) * interval '1 second'
        FROM generate_series(1, $1::int4) g, LATERAL (SELECT 1 + (g::int8 * 7) % $2::int4 AS c) x
        """
    static let holdoutsSQL = """
        INSERT INTO send_decisions (campaign_id, customer_id, occasion, channel, outcome, variant, offer_family,
                                    marketing, due_at, decided_at, idempotency_key, stage)
        SELECT 1 + g % 8, c, g, 'email', 'holdout', CASE WHEN g % 2 = 0 THEN 'A' ELSE 'B' END, 'bench-' || (1 + g % 8),
               true, timestamptz '2026-05-01' + (g % 30) * interval '1 day', timestamptz '2026-05-01', 'h-' || g,
               (ARRAY['new', 'active', 'at_risk', 'churned', 'reactivated'])[1 + c % 5]
        FROM generate_series(1, $1::int4) g, LATERAL (SELECT 1 + (g::int8 * 13) % $2::int4 AS c) x
        """
    /// Responses to deliveries: about 38% delivered, 30% opens (a third by machines), 16% clicks, and bounces,
    /// unsubscribes and complaints; repeats of a kind for a send happen and count once.
    static let responsesSQL = """
        INSERT INTO responses (idempotency_key, campaign_id, kind, channel, machine, occurred_at)
        SELECT 'b-' || (1 + (r::int8 * 7919) % $2::int4), NULL,
               CASE WHEN b < 38 THEN 'delivered' WHEN b < 68 THEN 'open' WHEN b < 84 THEN 'click'
                    WHEN b < 88 THEN 'bounce_soft' WHEN b < 90 THEN 'bounce_hard' WHEN b < 93 THEN 'unsubscribe'
                    WHEN b < 94 THEN 'complaint' ELSE 'open' END,
               'email', b BETWEEN 38 AND 47,
               timestamptz '2026-05-01' + (r % 31) * interval '1 day' + (r % 86400) * interval '1 second'
        FROM generate_series(1, $1::int4) r, LATERAL (SELECT (r * 31 + (r / $2::int4) * 17) % 100 AS b) x
        """
    /// Purchases and deposits by customers over May, with amounts, some inside a window of a send, some not.
    static let eventsSQL = """
        INSERT INTO events (customer_id, kind, payload, occurred_at)
        SELECT 1 + (g::int8 * 7) % $2::int4, CASE WHEN g % 3 = 0 THEN 'deposit' ELSE 'purchase' END,
               jsonb_build_object('amount', 5 + g % 200),
               timestamptz '2026-05-02' + (g % 30) * interval '1 day' + (g % 86400) * interval '1 second'
        FROM generate_series(1, $1::int4) g
        """

    /// Loads everything, from empty; returns rows per table.
    func generate(on conn: PostgresConnection) async throws -> [String: Int] {
        let log = { (text: String) in FileHandle.standardError.write(Data("load: \(text)\n".utf8)) }
        try await conn.executeScript(Self.resetSQL)
        log("\(customers) customers")
        try await conn.query(Self.customersSQL, [customers])
        try await conn.query(Self.campaignsSQL)
        try await conn.executeScript("ANALYZE customers")
        log("\(deliveries) deliveries")
        let d = try await conn.query(Self.deliveriesSQL, [deliveries, customers]).affectedRows
        log("\(holdouts) holdout decisions")
        let h = try await conn.query(Self.holdoutsSQL, [holdouts, customers]).affectedRows
        log("\(responses) responses")
        let r = try await conn.query(Self.responsesSQL, [responses, deliveries]).affectedRows
        log("\(events) events")
        let e = try await conn.query(Self.eventsSQL, [events, customers]).affectedRows
        return ["deliveries": d, "holdouts": h, "responses": r, "events": e]
    }
}
