import CicloCampaigns
import CicloScheduler
import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite("Lifecycle rules: lead scores with decay and stage transitions on a real database")
struct LifecycleRulesTests {
    /// 2026-03-01 12:00 UTC: the simulated clock; the tests never read the real one.
    static let now = Date(timeIntervalSince1970: 1_772_366_400)
    static let day: TimeInterval = 86_400

    static let config = """
        stages:
          b2b:
            - {key: attract, objective: {kpi: visitors, target: 1000}}
            - {key: capture, objective: {kpi: known_visitors, target: 100}}
            - {key: nurture, objective: {kpi: marketing_qualified_leads, target: 50}}
            - {key: convert, objective: {kpi: conversion_rate, target: 0.2}}
          b2c:
            - {key: new, objective: {kpi: activation_rate, target: 0.6}}
            - {key: active, objective: {kpi: monthly_active_rate, target: 0.7}}
            - {key: at_risk, objective: {kpi: retention_rate, target: 0.5}}
        transitions:
          - {name: identified, from: attract, to: capture, on_event: {kind: signup}}
          - {name: signed_up, from: any, to: new, on_event: {kind: signup}}
          - {name: engaged, from: capture, to: nurture, on_event: {kind: download}}
          - {name: sales_qualified, from: nurture, to: convert, lead_score_at_least: 50}
          - {name: first_deposit, from: new, to: active, on_event: {kind: deposit, where: {amount: {gte: 100}}}}
          - {name: gone_quiet, from: active, to: at_risk, inactive_days: 30}
        lead_scoring:
          points: {download: 10, demo_request: 40, unsubscribe: -20}
          half_life_days: 10
          thresholds: {mql: 20, sql: 50}
        """

    static let points: [String: Double] = ["download": 10, "demo_request": 40, "unsubscribe": -20]

    /// The score computed in Swift, independently of the SQL: points × 0.5^(age in days / 10), events up to `at`.
    static func expectedScore(_ events: [(kind: String, at: Date)], at: Date) -> Double {
        events.filter { $0.at <= at }.reduce(0) { sum, event in
            sum + (points[event.kind] ?? 0) * pow(0.5, at.timeIntervalSince(event.at) / day / 10)
        }
    }

    struct Population {
        let conn: PostgresConnection

        func customer(_ name: String, stage: String?, changed: Date? = nil, seen: Date? = nil) async throws -> Int64 {
            try await conn.query("""
                INSERT INTO customers (external_id, stage, stage_changed_at, last_seen_at) VALUES ($1, $2, $3, $4)
                RETURNING id
                """, [name, stage, changed, seen]).scalar(Int64.self)
        }

        func event(_ customer: Int64, _ kind: String, at: Date, payload: String = "{}") async throws {
            try await conn.query("INSERT INTO events (customer_id, kind, payload, occurred_at) VALUES ($1, $2, $3, $4)",
                                 [customer, kind, JSONB(payload), at])
        }

        func score(_ customer: Int64) async throws -> (score: Double, status: String?, scoredAt: Date?) {
            let row = try await conn.query(
                "SELECT lead_score, lead_status, last_scored_at FROM customers WHERE id = $1", [customer]).single()
            return (try row.decode(Double.self, at: 0), try row.decode(String?.self, at: 1),
                    try row.decode(Date?.self, at: 2))
        }

        func stage(_ customer: Int64) async throws -> String? {
            try await conn.query("SELECT stage FROM customers WHERE id = $1", [customer]).single()
                .decode(String?.self, at: 0)
        }

        /// Every customer row with its xmin, so that any write, even of equal values, shows.
        func snapshot() async throws -> String {
            try await conn.query("""
                SELECT string_agg(row(xmin, id, stage, stage_changed_at, lead_score, lead_status, last_scored_at,
                                      last_seen_at)::text, ';' ORDER BY id) || (SELECT count(*) FROM stage_transitions)
                FROM customers
                """).scalar(String.self)
        }
    }

    func configured(_ conn: PostgresConnection) async throws -> Population {
        try await LifecycleStore().apply(try LifecycleConfiguration.parse(Self.config, file: "rules.yaml"), on: conn)
        return Population(conn: conn)
    }

    @Test("scores decay as computed in Swift; thresholds give mql and sql; new events rescore; the refresh decays")
    func scores() async throws {
        try await withMigratedDatabase { _, conn in
            let people = try await configured(conn)
            let now = Self.now, day = Self.day
            var history: [Int64: [(kind: String, at: Date)]] = [:]
            func add(_ customer: Int64, _ kind: String, _ at: Date) async throws {
                try await people.event(customer, kind, at: at)
                history[customer, default: []].append((kind, at))
            }
            let mql = try await people.customer("s-mql", stage: nil)
            try await add(mql, "download", now - 3600)
            try await add(mql, "download", now - 10 * day)
            try await add(mql, "demo_request", now - 25 * day)
            let sql = try await people.customer("s-sql", stage: nil)
            try await add(sql, "demo_request", now - day)
            try await add(sql, "demo_request", now - day)
            let negative = try await people.customer("s-negative", stage: nil)
            try await add(negative, "download", now - 5 * day)
            try await add(negative, "unsubscribe", now - 2 * day)
            let future = try await people.customer("s-future", stage: nil)
            try await add(future, "demo_request", now + day)  // not yet happened at the clock
            try await add(future, "page_view", now - day)  // not a scored kind
            let nobody = try await people.customer("s-none", stage: nil)

            let rules = LifecycleRules()
            let first = try await rules.apply(now: now, on: conn)
            #expect(first.fullPass)
            for (customer, status) in [(mql, "mql"), (sql, "sql"), (negative, nil), (future, nil), (nobody, nil)] {
                let stored = try await people.score(customer)
                let expected = Self.expectedScore(history[customer] ?? [], at: now)
                #expect(abs(stored.score - expected) < 1e-5, "customer \(customer): \(stored.score) vs \(expected)")
                #expect(stored.status == status)
            }
            #expect(abs(try await people.score(mql).score - 22.0424) < 1e-3)
            #expect(try await people.score(negative).score < 0)

            // A new event rescores its customer exactly; the others keep their stored score until the refresh.
            let later = now + 2 * 3600
            try await add(negative, "demo_request", now + 3600)
            let second = try await rules.apply(now: later, on: conn)
            #expect(second.rescored == 1)
            #expect(second.decayed == 0)
            let rescored = try await people.score(negative)
            #expect(abs(rescored.score - Self.expectedScore(history[negative]!, at: later)) < 1e-5)
            #expect(rescored.status == "mql")
            #expect(rescored.scoredAt == later)
            #expect(try await people.score(mql).scoredAt == now)

            // A day past the last refresh, every stored score is aged exactly; mql decays below its threshold.
            let days = now + 3 * day
            let third = try await rules.apply(now: days, on: conn)
            #expect(third.rescored == 1, "the future customer: its event's time has come")
            #expect(third.decayed == 3, "mql, sql and negative customers")
            for customer in [mql, sql, negative, future] {
                let stored = try await people.score(customer)
                let expected = Self.expectedScore(history[customer]!, at: days)
                #expect(abs(stored.score - expected) < 1e-5, "customer \(customer): \(stored.score) vs \(expected)")
                #expect(stored.scoredAt == days)
            }
            #expect(try await people.score(mql).status == nil)
            #expect(try await people.score(sql).status == "sql")
            #expect(try await people.score(future).status == "mql")

            // The same clock again: nothing is written.
            let before = try await people.snapshot()
            let again = try await rules.apply(now: days, on: conn)
            #expect(again.rescored == 0 && again.decayed == 0 && again.moved == 0)
            #expect(try await people.snapshot() == before)
        }
    }

    @Test("event, inactivity and score transitions move each customer once per tick and log the rule")
    func transitions() async throws {
        try await withMigratedDatabase { _, conn in
            let people = try await configured(conn)
            let now = Self.now, day = Self.day
            // attract → capture on signup, and only that this tick although a download follows.
            let visitor = try await people.customer("t-visitor", stage: "attract", changed: now - 60 * day)
            try await people.event(visitor, "signup", at: now - day)
            try await people.event(visitor, "download", at: now - 0.5 * day)
            // No stage yet: `any` reaches it.
            let stageless = try await people.customer("t-stageless", stage: nil)
            try await people.event(stageless, "signup", at: now - day)
            // nurture → convert on a score of at least 50.
            let lead = try await people.customer("t-lead", stage: "nurture", changed: now - 20 * day)
            try await people.event(lead, "demo_request", at: now - day)
            try await people.event(lead, "demo_request", at: now - day)
            // active → at_risk after 30 days without activity: from last_seen_at, and from the last event.
            let quiet = try await people.customer("t-quiet", stage: "active", changed: now - 90 * day, seen: now - 40 * day)
            let quietByEvents = try await people.customer("t-quiet-events", stage: "active", changed: now - 90 * day)
            try await people.event(quietByEvents, "login", at: now - 45 * day)
            let busy = try await people.customer("t-busy", stage: "active", changed: now - 90 * day, seen: now - 40 * day)
            try await people.event(busy, "login", at: now - 10 * day)
            // A download before the customer entered capture does not count.
            let early = try await people.customer("t-early", stage: "capture", changed: now - day)
            try await people.event(early, "download", at: now - 2 * day)
            // new → active on a deposit of at least 100.
            let depositor = try await people.customer("t-depositor", stage: "new", changed: now - 5 * day)
            try await people.event(depositor, "deposit", at: now - day, payload: #"{"amount": 150}"#)
            let small = try await people.customer("t-small", stage: "new", changed: now - 5 * day)
            try await people.event(small, "deposit", at: now - day, payload: #"{"amount": 50}"#)

            let report = try await LifecycleRules().apply(now: now, on: conn)
            let counts = Dictionary(uniqueKeysWithValues: report.moves.map { ($0.rule, $0.count) })
            #expect(report.moves.map(\.rule)
                    == ["identified", "signed_up", "engaged", "sales_qualified", "first_deposit", "gone_quiet"])
            #expect(counts == ["identified": 1, "signed_up": 1, "engaged": 0, "sales_qualified": 1,
                               "first_deposit": 1, "gone_quiet": 2])
            #expect(try await people.stage(visitor) == "capture")
            #expect(try await people.stage(stageless) == "new")
            #expect(try await people.stage(lead) == "convert")
            #expect(try await people.stage(quiet) == "at_risk")
            #expect(try await people.stage(quietByEvents) == "at_risk")
            #expect(try await people.stage(busy) == "active")
            #expect(try await people.stage(early) == "capture")
            #expect(try await people.stage(depositor) == "active")
            // The deposit of 50 is under the rule's `gte: 100`.
            #expect(try await people.stage(small) == "new")

            let log = try await conn.query("""
                SELECT customer_id, coalesce(from_stage, '-'), to_stage, rule, at FROM stage_transitions
                WHERE customer_id = ANY($1::int8[]) ORDER BY id
                """, [[visitor, stageless, lead, quiet, depositor]]).map { row in
                "\(try row.decode(Int64.self, at: 0)) \(try row.decode(String.self, at: 1))>\(try row.decode(String.self, at: 2)) \(try row.decode(String.self, at: 3)) \(try row.decode(Date.self, at: 4) == now)"
            }
            #expect(log == [
                "\(visitor) attract>capture identified true", "\(stageless) ->new signed_up true",
                "\(lead) nurture>convert sales_qualified true", "\(depositor) new>active first_deposit true",
                "\(quiet) active>at_risk gone_quiet true",
            ])
            let changed = try await conn.query("SELECT stage_changed_at FROM customers WHERE id = $1", [visitor])
                .scalar(Date.self)
            #expect(changed == now)

            // The same clock again changes nothing.
            let before = try await people.snapshot()
            let again = try await LifecycleRules().apply(now: now, on: conn)
            #expect(again.moved == 0)
            #expect(try await people.snapshot() == before)

            // Next tick: the download before the visitor entered capture still does not count; a new one does.
            #expect(try await LifecycleRules().apply(now: now + 3600, on: conn).moved == 0)
            try await people.event(visitor, "download", at: now + 1800)
            let next = try await LifecycleRules().apply(now: now + 7200, on: conn)
            #expect(next.moves.first { $0.rule == "engaged" }?.count == 1)
            #expect(try await people.stage(visitor) == "nurture")
        }
    }

    @Test("between sweeps, score rules see customers rescored now and those who entered the stage at the last tick")
    func scoreRulesBetweenSweeps() async throws {
        try await withMigratedDatabase { _, conn in
            let people = try await configured(conn)
            let now = Self.now, day = Self.day
            let rules = LifecycleRules()
            let riser = try await people.customer("w-riser", stage: "nurture", changed: now - 10 * day)
            try await people.event(riser, "demo_request", at: now - day)
            let entrant = try await people.customer("w-entrant", stage: "capture", changed: now - 10 * day)
            try await people.event(entrant, "demo_request", at: now - 2 * day)
            try await people.event(entrant, "demo_request", at: now - 2 * day)
            #expect(try await rules.apply(now: now, on: conn).moved == 0)

            try await people.event(riser, "demo_request", at: now + 600)
            try await people.event(entrant, "download", at: now + 600)
            let second = try await rules.apply(now: now + 3600, on: conn)
            #expect(!second.fullPass && second.decayed == 0)
            #expect(second.moves.filter { $0.count > 0 }.map(\.rule) == ["engaged", "sales_qualified"])
            #expect(try await people.stage(riser) == "convert", "rescored above 50 by a new event")
            #expect(try await people.stage(entrant) == "nurture", "moved once this tick")

            let third = try await rules.apply(now: now + 7200, on: conn)
            #expect(third.rescored == 0)
            #expect(third.moves.filter { $0.count > 0 }.map(\.rule) == ["sales_qualified"])
            #expect(try await people.stage(entrant) == "convert", "entered nurture at the last tick with a score of 50+")
        }
    }

    @Test("a clock earlier than the last tick re-reads everything instead of trusting the window")
    func clockMovesBack() async throws {
        try await withMigratedDatabase { _, conn in
            let people = try await configured(conn)
            let now = Self.now, day = Self.day
            let lead = try await people.customer("b-lead", stage: nil)
            try await people.event(lead, "demo_request", at: now - 10 * day)
            _ = try await LifecycleRules().apply(now: now, on: conn)
            #expect(abs(try await people.score(lead).score - 20) < 1e-5)
            let earlier = now - 20 * day
            let report = try await LifecycleRules().apply(now: earlier, on: conn)
            #expect(report.fullPass)
            let stored = try await people.score(lead)
            #expect(stored.score == 0, "the event has not happened yet at the earlier clock")
            #expect(stored.scoredAt == earlier)
        }
    }
}
