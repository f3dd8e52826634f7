import CicloScheduler
import CicloTestSupport
import Foundation
import Logging
import Postgres
import Testing

/// Sixty simulated days over a generated population of 20,000 customers, with one campaign of each automated
/// kind and the contact policy on; then every rule is checked with SQL (and, for quiet hours, Foundation's own
/// zone rules) written apart from the scheduler's.
@Suite(.serialized) struct SimulationRulesTests {
    static let start = ISO8601DateFormatter().date(from: "2026-03-01T00:00:00Z")!
    static let days = 60

    /// Policy: email 3 per 7 days, SMS 2 per 7 days, push 5 per 7 days; quiet hours 21:00 to 08:00 (email from
    /// 22:00); a 2% global holdout.
    static let policySQL = """
        INSERT INTO contact_policy (channel, max_sends, per_days, quiet_start, quiet_end) VALUES
            ('email', 3, 7, '22:00', '08:00'), ('sms', 2, 7, '21:00', '08:00'), ('push', 5, 7, '21:00', '08:00');
        INSERT INTO settings (key, value) VALUES ('global_holdout', '{"share": 0.02, "salt": "global-2026"}');
        """

    static let campaigns: [(key: String, kind: String, channel: String, priority: Int, definition: String)] = [
        ("daily-winback", "recurring", "email", 5, """
            {"key": "daily-winback", "name": "Win-back", "kind": "recurring", "channel": "email", "priority": 5,
             "holdout": 0.1, "stage": "At-risk", "offer_family": "winback",
             "segment": {"stage": {"in": ["At-risk", "Churned", "Active"]}},
             "recurring": {"schedule": {"cron": "0 10 * * *", "timezone": "Europe/Lisbon"}, "cooldown_days": 21},
             "variables": {"offer_code": "BACK10"},
             "variants": [\(variant("A")), \(variant("B")), \(variant("C"))]}
            """),
        ("weekly-news", "recurring", "email", 1, """
            {"key": "weekly-news", "name": "News", "kind": "recurring", "channel": "email", "priority": 1,
             "holdout": 0.05, "stage": "Active",
             "segment": {"persona": {"in": ["b2c-loyal", "b2c-high-roller", "b2c-bargain-hunter"]}},
             "recurring": {"schedule": {"every": "1d"}, "cooldown_days": 3},
             "variants": [\(variant("N1")), \(variant("N2"))]}
            """),
        ("deposit-thanks", "trigger", "sms", 3, """
            {"key": "deposit-thanks", "name": "Deposit thanks", "kind": "trigger", "channel": "sms", "priority": 3,
             "holdout": 0.1, "segment": {"stage": {"in": ["New", "Active", "At-risk", "Churned", "Reactivated", "Nurture", "Convert"]}},
             "trigger": {"event": "deposit", "filter": {"amount": {"gte": 50}}, "delay": "30m", "window": "1d"},
             "variants": [\(smsVariant("T"))]}
            """),
        ("big-result", "experience", "push", 4, """
            {"key": "big-result", "name": "Big result", "kind": "experience", "channel": "push", "priority": 4,
             "holdout": 0.1, "segment": {"persona": {"in": ["b2c-high-roller", "b2c-loyal", "b2c-bargain-hunter"]}},
             "experience": {"event": "game_result", "delay": "5m", "window": "6h", "cooldown_days": 3, "cap_per_day": 1,
                            "tones": [{"name": "big_win", "when": {"amount": {"gte": 1000}}, "variant": "celebrate"},
                                      {"name": "big_loss", "when": {"amount": {"lte": -1000}}, "variant": "comfort"}]},
             "variants": [\(pushVariant("celebrate")), \(pushVariant("comfort"))]}
            """),
    ]

    static func variant(_ name: String) -> String {
        """
        {"name": "\(name)", "templates": {"en": {"subject": "Hi {{customer.first_name}}", "html": "<p>Offer \(name)</p>",
         "variables": [{"name": "customer.first_name", "default": "there"}]}}}
        """
    }
    static func smsVariant(_ name: String) -> String {
        #"{"name": "\#(name)", "templates": {"en": {"body": "Thanks for your deposit"}}}"#
    }
    static func pushVariant(_ name: String) -> String {
        #"{"name": "\#(name)", "templates": {"en": {"title": "\#(name)", "body": "About your game"}}}"#
    }

    static func setUp() async throws -> (MigrationDatabase, PostgresConnection) {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        try await Population.generate(20_000, now: start, eventsFrom: start, days: days, eventsPerCustomer: 3, on: conn)
        try await conn.executeScript(policySQL)
        for c in campaigns {
            try await conn.query("""
                INSERT INTO campaigns (key, name, kind, channel, status, priority, salt, definition, created_at)
                VALUES ($1, $1, $2, $3, 'active', $4::int2, $1, $5::jsonb, $6)
                """, [c.key, c.kind, c.channel, c.priority, c.definition, start])
        }
        return (db, conn)
    }

    static func count(_ sql: String, on conn: PostgresConnection) async throws -> Int {
        try await conn.query(sql).first!.decode(at: 0)
    }

    @Test func sixtyDaysHoldEveryRule() async throws {
        let (db, conn) = try await Self.setUp()
        // `closing`, not a detached drop in a defer: `make test` runs this suite alone in its process.
        try await closing(db, conn) { try await Self.simulateAndCheck(on: conn) }
    }

    static func simulateAndCheck(on conn: PostgresConnection) async throws {
        let simulator = Simulator(logger: Logger(label: "test"))
        let holdouts = HoldoutSets()
        let rows = try await simulator.run(from: Self.start, days: Self.days, step: .seconds(7200), on: conn, inspect: { conn in
            try await Self.checkRules(on: conn)
            await holdouts.add(try await Self.holdoutSet(on: conn))
        })
        #expect(!rows.isEmpty)
        // Nothing was kept: the simulation rolled back.
        #expect(try await Self.count("SELECT count(*) FROM send_decisions", on: conn) == 0)
        #expect(try await Self.count("SELECT count(*) FROM send_jobs", on: conn) == 0)
        // A second run of the first week assigns the same holdout (for the occasions both saw).
        _ = try await simulator.run(from: Self.start, days: 7, step: .seconds(3600), on: conn, inspect: { conn in
            await holdouts.add(try await Self.holdoutSet(on: conn))
        })
        let sets = await holdouts.sets
        #expect(sets.count == 2)
        let firstWeekCustomers = Set(sets[1].map { $0.split(separator: "/").prefix(2).joined(separator: "/") })
        let fullRunSameCustomers = Set(sets[0].map { $0.split(separator: "/").prefix(2).joined(separator: "/") })
        #expect(!firstWeekCustomers.isEmpty)
        #expect(firstWeekCustomers.isSubset(of: fullRunSameCustomers))
    }

    actor HoldoutSets {
        var sets: [Set<String>] = []
        func add(_ set: Set<String>) { sets.append(set) }
    }

    /// campaign/customer/outcome for every holdout decision.
    static func holdoutSet(on conn: PostgresConnection) async throws -> Set<String> {
        Set(try await conn.query("""
            SELECT k.key || '/' || d.customer_id || '/' || d.outcome FROM send_decisions d JOIN campaigns k ON k.id = d.campaign_id
            WHERE d.outcome IN ('holdout', 'global_holdout')
            """).map { try $0.decode(String.self, at: 0) })
    }

    static func checkRules(on conn: PostgresConnection) async throws {
        let queued = try await count("SELECT count(*) FROM send_decisions WHERE outcome = 'queued'", on: conn)
        #expect(queued > 1_000, "the simulation should send something, got \(queued)")
        for outcome in ["holdout", "global_holdout", "no_consent", "suppressed", "cooldown", "capped"] {
            let n = try await count("SELECT count(*) FROM send_decisions WHERE outcome = '\(outcome)'", on: conn)
            #expect(n > 0, "expected some \(outcome) decisions")
        }

        // No send without consent, and none to a suppressed customer.
        #expect(try await count("""
            SELECT count(*) FROM send_decisions d
            WHERE d.outcome = 'queued'
              AND (NOT EXISTS (SELECT 1 FROM consents c WHERE c.customer_id = d.customer_id AND c.channel = d.channel AND c.granted)
                   OR EXISTS (SELECT 1 FROM suppressions s WHERE s.customer_id = d.customer_id AND s.channel = d.channel))
            """, on: conn) == 0)

        // No repeat inside a cooldown: consecutive sends (or holdouts) of a family to one customer are at least the
        // campaign's cooldown apart.
        #expect(try await count("""
            SELECT count(*) FROM (
                SELECT d.due_at - lag(d.due_at) OVER (PARTITION BY d.offer_family, d.customer_id ORDER BY d.due_at) AS gap,
                       (k.definition #>> '{recurring,cooldown_days}')::int AS recurring_days,
                       (k.definition #>> '{experience,cooldown_days}')::int AS experience_days
                FROM send_decisions d JOIN campaigns k ON k.id = d.campaign_id
                WHERE d.outcome IN ('queued', 'holdout')
            ) t
            WHERE gap < coalesce(recurring_days, experience_days, 0) * interval '1 day'
            """, on: conn) == 0)

        // No customer over the frequency cap: in every window of per_days starting at a send, at most max_sends.
        #expect(try await count("""
            SELECT count(*) FROM send_decisions d JOIN contact_policy p ON p.channel = d.channel
            WHERE d.outcome = 'queued' AND d.marketing
              AND (SELECT count(*) FROM send_decisions e
                   WHERE e.customer_id = d.customer_id AND e.channel = d.channel AND e.outcome = 'queued' AND e.marketing
                     AND e.due_at >= d.due_at AND e.due_at < d.due_at + p.per_days * interval '1 day') > p.max_sends
            """, on: conn) == 0)

        // The experience guard rail: at most one send per customer per rolling day.
        #expect(try await count("""
            SELECT count(*) FROM send_decisions d JOIN campaigns k ON k.id = d.campaign_id AND k.key = 'big-result'
            WHERE d.outcome = 'queued'
              AND (SELECT count(*) FROM send_decisions e WHERE e.campaign_id = d.campaign_id AND e.customer_id = d.customer_id
                     AND e.outcome = 'queued' AND e.due_at >= d.due_at AND e.due_at < d.due_at + interval '1 day') > 1
            """, on: conn) == 0)

        // The variant never repeats back to back in a recurring campaign (IS NOT DISTINCT FROM: two NULLs repeat
        // too), over some consecutive recurring cycles, and every queued decision names its variant.
        #expect(try await count("""
            SELECT count(*) FROM send_decisions a JOIN send_decisions b
              ON b.campaign_id = a.campaign_id AND b.customer_id = a.customer_id AND b.occasion = a.occasion + 1
            JOIN campaigns k ON k.id = a.campaign_id AND k.kind = 'recurring'
            WHERE a.outcome = 'queued' AND b.outcome = 'queued' AND a.variant IS NOT DISTINCT FROM b.variant
            """, on: conn) == 0)
        #expect(try await count("""
            SELECT count(*) FROM send_decisions a JOIN send_decisions b
              ON b.campaign_id = a.campaign_id AND b.customer_id = a.customer_id AND b.occasion = a.occasion + 1
            JOIN campaigns k ON k.id = a.campaign_id AND k.kind = 'recurring'
            WHERE a.outcome = 'queued' AND b.outcome = 'queued'
            """, on: conn) > 0, "some customers should get consecutive cycles of a recurring campaign")
        #expect(try await count(
            "SELECT count(*) FROM send_decisions WHERE outcome = 'queued' AND variant IS NULL", on: conn) == 0)

        // Holdout is a property of customer and campaign: nobody is both sent and held out by one campaign.
        #expect(try await count("""
            SELECT count(*) FROM (SELECT 1 FROM send_decisions WHERE outcome IN ('queued', 'holdout')
                                  GROUP BY campaign_id, customer_id HAVING count(DISTINCT outcome) > 1) t
            """, on: conn) == 0)

        // Triggered sends follow their events by the configured delay (30 minutes), or later when quiet hours
        // deferred them, and never before; experience sends by 5 minutes.
        for (key, delay) in [("deposit-thanks", 1800), ("big-result", 300)] {
            #expect(try await count("""
                SELECT count(*) FROM send_decisions d JOIN campaigns k ON k.id = d.campaign_id AND k.key = '\(key)'
                JOIN events e ON e.id = d.occasion
                WHERE d.outcome = 'queued'
                  AND NOT (d.due_at = e.occurred_at + \(delay) * interval '1 second'
                           OR (d.reason = 'quiet_hours' AND d.due_at > e.occurred_at + \(delay) * interval '1 second'))
                """, on: conn) == 0)
            #expect(try await count("""
                SELECT count(*) FROM send_decisions d JOIN campaigns k ON k.id = d.campaign_id AND k.key = '\(key)'
                WHERE d.outcome = 'queued'
                """, on: conn) > 0, "\(key) should send")
        }
        // Only deposits of 50 or more trigger; only wins and losses of 1,000 or more are an experience.
        #expect(try await count("""
            SELECT count(*) FROM send_decisions d JOIN campaigns k ON k.id = d.campaign_id
            JOIN events e ON e.id = d.occasion
            WHERE (k.key = 'deposit-thanks' AND (e.payload->>'amount')::int < 50)
               OR (k.key = 'big-result' AND abs((e.payload->>'amount')::int) < 1000)
            """, on: conn) == 0)
        #expect(try await count("""
            SELECT count(*) FROM send_decisions d JOIN campaigns k ON k.id = d.campaign_id AND k.key = 'big-result'
            JOIN events e ON e.id = d.occasion
            WHERE d.variant IS DISTINCT FROM CASE WHEN (e.payload->>'amount')::int > 0 THEN 'celebrate' ELSE 'comfort' END
              AND d.outcome IN ('queued', 'holdout')
            """, on: conn) == 0)

        try await checkQuietHours(on: conn)
    }

    /// Quiet hours checked with Foundation's zone rules, apart from PostgreSQL's: no marketing send is due inside
    /// them in the customer's local time, across the daylight-saving changes of March and April 2026.
    static func checkQuietHours(on conn: PostgresConnection) async throws {
        let rows = try await conn.query("""
            SELECT d.due_at, c.timezone, p.quiet_start::text, p.quiet_end::text
            FROM send_decisions d JOIN customers c ON c.id = d.customer_id JOIN contact_policy p ON p.channel = d.channel
            WHERE d.outcome = 'queued' AND d.marketing
            """)
        var calendars: [String: Calendar] = [:]
        var violations: [String] = []
        var deferredAcrossChange = 0
        for row in rows {
            let due: Date = try row.decode(at: 0)
            let zone: String = try row.decode(at: 1)
            let start = minutes(try row.decode(String.self, at: 2))
            let end = minutes(try row.decode(String.self, at: 3))
            var calendar = calendars[zone] ?? {
                var c = Calendar(identifier: .gregorian)
                c.timeZone = TimeZone(identifier: zone)!
                return c
            }()
            calendars[zone] = calendar
            calendar.timeZone = TimeZone(identifier: zone)!
            let parts = calendar.dateComponents([.hour, .minute], from: due)
            let local = parts.hour! * 60 + parts.minute!
            let quiet = start > end ? (local >= start || local < end) : (local >= start && local < end)
            if quiet { violations.append("\(due) in \(zone) is local \(parts.hour!):\(parts.minute!)") }
            if !TimeZone(identifier: zone)!.isDaylightSavingTime(for: due.addingTimeInterval(-86_400))
                != !TimeZone(identifier: zone)!.isDaylightSavingTime(for: due) { deferredAcrossChange += 1 }
        }
        #expect(violations.isEmpty, "\(violations.count) sends inside quiet hours, e.g. \(violations.prefix(3))")
        #expect(deferredAcrossChange > 0, "some sends should fall within a day of a daylight-saving change")
    }

    static func minutes(_ time: String) -> Int {
        let parts = time.split(separator: ":").compactMap { Int($0) }
        return parts[0] * 60 + parts[1]
    }
}
