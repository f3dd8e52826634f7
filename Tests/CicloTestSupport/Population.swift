import Foundation
import Postgres

/// A generated customer population for scheduler tests and benchmarks, written with set-based SQL: customers
/// spread over time zones (both hemispheres' daylight-saving rules, and zones without any), lifecycle stages,
/// personas and locales, with consent per channel, a few suppressions, and events over a period.
public enum Population {
    /// Zones chosen for their rules: EU and US daylight saving on different dates, southern-hemisphere saving
    /// that ends when the northern one starts, half-hour offsets, and zones with no saving at all.
    public static let timezones = [
        "Europe/Lisbon", "Europe/Rome", "Europe/London", "America/New_York", "America/Los_Angeles",
        "America/Sao_Paulo", "Asia/Tokyo", "Australia/Sydney", "Asia/Kolkata", "Pacific/Auckland", "UTC",
    ]
    public static let stages = ["New", "Active", "At-risk", "Churned", "Reactivated", "Nurture", "Convert"]
    public static let personas = ["b2c-bargain-hunter", "b2c-loyal", "b2c-high-roller", "b2b-buyer"]

    static let customersSQL = """
        INSERT INTO customers (external_id, email, phone, push_token, locale, timezone, stage, persona, attributes,
                               product_preferences, created_at, last_seen_at)
        SELECT 'pop-' || g, 'pop' || g || '@example.com', '+3519' || lpad(g::text, 8, '0'), 'tok-' || g,
               (ARRAY['pt', 'it', 'en'])[1 + g % 3],
               ($2::text[])[1 + (g * 7) % cardinality($2::text[])],
               ($3::text[])[1 + (g * 5) % cardinality($3::text[])],
               ($4::text[])[1 + (g * 3) % cardinality($4::text[])],
               jsonb_build_object('first_name', (ARRAY['Ana', 'Giulia', 'Tom', 'João', 'Marco', 'Emma'])[1 + g % 6],
                                  'tier', (ARRAY['gold', 'silver', 'bronze'])[1 + g % 3],
                                  'ltv', (g % 1000)::numeric),
               CASE WHEN g % 2 = 0 THEN ARRAY['casino'] ELSE ARRAY['sportsbook'] END,
               $5::timestamptz - (g % 400) * interval '1 day',
               $5::timestamptz - (g % 90) * interval '1 day'
        FROM generate_series($6::int8, $6::int8 + $1::int8 - 1) g
        """
    /// Consent: email for nine in ten, SMS for two in three, push for four in five; every fiftieth is unsubscribed by
    /// email.
    static let consentsSQL = """
        INSERT INTO consents (customer_id, channel, granted, source)
        SELECT c.id, ch.channel, (c.id % ch.every) <> 0, 'generated'
        FROM customers c
        CROSS JOIN (VALUES ('email', 10), ('sms', 3), ('push', 5)) AS ch(channel, every)
        WHERE c.external_id LIKE 'pop-%'
        ON CONFLICT DO NOTHING;
        INSERT INTO suppressions (customer_id, channel, reason)
        SELECT id, 'email', 'unsubscribed' FROM customers WHERE external_id LIKE 'pop-%' AND id % 50 = 7
        ON CONFLICT DO NOTHING;
        """
    /// Events spread over the period: deposits with amounts, and game results with wins and losses.
    static let eventsSQL = """
        INSERT INTO events (customer_id, kind, payload, occurred_at)
        SELECT c.id, k.kind,
               jsonb_build_object('amount', CASE k.kind WHEN 'deposit' THEN 10 + (c.id * 37 + n) % 200
                                                        ELSE ((c.id * 53 + n * 101) % 3000) - 1500 END),
               $1::timestamptz + (((c.id * 7919 + n * 104729) % ($2::int8 * 86400)) * interval '1 second')
        FROM customers c
        CROSS JOIN (VALUES ('deposit'), ('game_result')) AS k(kind)
        CROSS JOIN generate_series(1, $3::int4) n
        WHERE c.external_id LIKE 'pop-%' AND c.id % 4 = 0
        """

    /// Inserts `count` customers (external ids pop-`from`...), their consents and suppressions, and, when `eventsPerCustomer`
    /// is positive, events of a quarter of them spread over `days` days from `eventsFrom`.
    public static func generate(
        _ count: Int, from first: Int = 1, now: Date, eventsFrom: Date? = nil, days: Int = 60,
        eventsPerCustomer: Int = 0, on conn: PostgresConnection
    ) async throws {
        try await conn.query(customersSQL, [count, timezones, stages, personas, now, first])
        try await conn.executeScript(consentsSQL)
        if let eventsFrom, eventsPerCustomer > 0 {
            try await conn.query(eventsSQL, [eventsFrom, days, eventsPerCustomer])
        }
        try await conn.executeScript("ANALYZE customers; ANALYZE consents; ANALYZE events;")
    }
}
