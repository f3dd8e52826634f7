import CicloCampaigns
import CicloScheduler
import CicloTestSupport
import Foundation
import Postgres
import Testing

/// Each rule's members as the database finds them, against the members computed in Swift from the seeded data.
@Suite("segment language: SQL against a real database", .serialized)
struct SegmentSQLTests {
    typealias Customer = SeededCustomer
    static let now = SegmentPopulation.now

    /// Rules and their meaning written independently in Swift, following the README's definitions.
    static var rules: [(rule: String, expected: (Customer) -> Bool)] {
        func days(_ c: Customer) -> Int? { c.lastSeenAt.map { Customer.days(since: $0, now: now) } }
        func created(_ c: Customer) -> Int { Customer.days(since: c.createdAt, now: now) }
        func score(_ c: Customer) -> Double? { c.attributes["score"]?.number }
        func birthday(_ c: Customer) -> String? {
            guard let text = c.attributes["birthday"]?.string,
                text.range(of: #"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ]|$)"#, options: .regularExpression) != nil
            else { return nil }
            return String(text.prefix(10))
        }
        func count(_ c: Customer, _ kinds: Set<String>, _ within: Int?) -> Int {
            c.events(kinds, within: within, now: now).count
        }
        func sum(_ c: Customer, _ kinds: Set<String>, _ within: Int?) -> Double {
            c.events(kinds, within: within, now: now).compactMap { $0.payload["amount"]?.number }.reduce(0, +)
        }
        func exists(_ value: StoredValue?) -> Bool {
            if let value, case .null = value { return false }
            return value != nil
        }
        return [
            ("stage: Active", { $0.stage == "Active" }),
            ("stage: {in: [Active, At-risk]}", { ["Active", "At-risk"].contains($0.stage ?? "") }),
            ("stage: {ne: Active}", { $0.stage != nil && $0.stage != "Active" }),
            ("stage: {not_in: [Active, New]}", { $0.stage != nil && !["Active", "New"].contains($0.stage!) }),
            ("not: {stage: Active}", { $0.stage != "Active" }),
            ("stage: {exists: false}", { $0.stage == nil }),
            ("persona: b2c-bargain-hunter", { $0.persona == "b2c-bargain-hunter" }),
            ("locale: {not_in: [en, it]}", { !["en", "it"].contains($0.locale) }),
            ("locale: {exists: true}", { _ in true }),
            ("timezone: Europe/Rome", { $0.timezone == "Europe/Rome" }),
            ("attribute: {tier: gold}", { $0.attributes["tier"]?.string == "gold" }),
            (
                "attribute: {tier: {in: [gold, silver]}}",
                { ["gold", "silver"].contains($0.attributes["tier"]?.string ?? "") }
            ),
            ("attribute: {tier: {ne: gold}}", { $0.attributes["tier"]?.string.map { $0 != "gold" } ?? false }),
            ("attribute: {tier: {exists: true}}", { exists($0.attributes["tier"]) }),
            ("attribute: {country: {exists: false}}", { !exists($0.attributes["country"]) }),
            ("not: {attribute: {country: {eq: IT}}}", { $0.attributes["country"]?.string != "IT" }),
            ("attribute: {score: {gte: 50, lt: 80.5}}", { score($0).map { $0 >= 50 && $0 < 80.5 } ?? false }),
            ("attribute: {score: {gt: 1e100}}", { score($0).map { $0 > 1e100 } ?? false }),
            ("attribute: {score: {in: [10, 20.5]}}", { [10, 20.5].contains(score($0) ?? -1) }),
            ("attribute: {score: {not_in: [10, 20.5]}}", { score($0).map { ![10, 20.5].contains($0) } ?? false }),
            ("attribute: {score: {exists: false}}", { !exists($0.attributes["score"]) }),
            ("attribute: {vip: true}", { $0.attributes["vip"]?.bool == true }),
            ("attribute: {vip: {ne: true}}", { $0.attributes["vip"]?.bool == false }),
            (
                "attribute: {birthday: {gte: 1990-01-01, lt: 2000-01-01}}",
                { birthday($0).map { $0 >= "1990-01-01" && $0 < "2000-01-01" } ?? false }
            ),
            (
                "attribute: {birthday: {in: [1995-02-28, 1980-05-05]}}",
                { ["1995-02-28", "1980-05-05"].contains(birthday($0) ?? "") }
            ),
            ("attribute: {tags: vip}", { $0.attributes["tags"]?.array?.contains("vip") ?? false }),
            (
                "attribute: {tags: {contains: [vip, beta]}}",
                { $0.attributes["tags"]?.array.map { $0.contains("vip") && $0.contains("beta") } ?? false }
            ),
            (
                "product: {any: [sportsbook, casino]}",
                { $0.products.contains("sportsbook") || $0.products.contains("casino") }
            ),
            (
                "product: {all: [sportsbook, casino]}",
                { $0.products.contains("sportsbook") && $0.products.contains("casino") }
            ),
            ("product: {none: [poker]}", { !$0.products.contains("poker") }),
            ("consent: email", { $0.consents["email"] == true }),
            ("suppressed: email", { $0.suppressed.contains("email") }),
            (
                "all: [{consent: email}, {not: {suppressed: email}}]",
                { $0.consents["email"] == true && !$0.suppressed.contains("email") }
            ),
            ("events: {kind: deposit, within_days: 30}", { count($0, ["deposit"], 30) >= 1 }),
            ("events: {kind: deposit, within_days: 30, count: {gte: 2}}", { count($0, ["deposit"], 30) >= 2 }),
            ("events: {kind: deposit, within_days: 7, count: 0}", { count($0, ["deposit"], 7) == 0 }),
            (
                "events: {kind: [deposit, purchase], count: {in: [2, 3]}}",
                { [2, 3].contains(count($0, ["deposit", "purchase"], nil)) }
            ),
            ("events: {kind: login, within_days: 10, count: {ne: 1}}", { count($0, ["login"], 10) != 1 }),
            (
                "events: {kind: deposit, within_days: 30, sum: {field: amount, gte: 100}}",
                { sum($0, ["deposit"], 30) >= 100 }
            ),
            (
                "events: {kind: deposit, within_days: 30, count: {gte: 1}, sum: {field: amount, lt: 50}}",
                { count($0, ["deposit"], 30) >= 1 && sum($0, ["deposit"], 30) < 50 }
            ),
            (
                "events: {kind: purchase, within_days: 45, where: {category: casino}}",
                {
                    $0.events(["purchase"], within: 45, now: now).contains {
                        $0.payload["category"]?.string == "casino"
                    }
                }
            ),
            (
                "events: {kind: deposit, within_days: 30, where: {amount: {gte: 50}}, count: {gte: 2}}",
                {
                    $0.events(["deposit"], within: 30, now: now).filter { ($0.payload["amount"]?.number ?? -1) >= 50 }
                        .count >= 2
                }
            ),
            (
                "events: {kind: deposit, where: {not: {amount: {exists: true}}}}",
                { $0.events(["deposit"], within: nil, now: now).contains { !exists($0.payload["amount"]) } }
            ),
            ("last_seen_days: {gte: 14}", { days($0).map { $0 >= 14 } ?? true }),
            ("last_seen_days: {gt: 14}", { days($0).map { $0 > 14 } ?? true }),
            ("last_seen_days: {lt: 7}", { days($0).map { $0 < 7 } ?? false }),
            ("last_seen_days: {lte: 3}", { days($0).map { $0 <= 3 } ?? false }),
            ("last_seen_days: 3", { days($0) == 3 }),
            ("last_seen_days: {ne: 3}", { days($0) != 3 }),
            ("last_seen_days: {in: [0, 14]}", { [0, 14].contains(days($0) ?? -99) }),
            ("last_seen_days: {not_in: [0, 14]}", { days($0).map { ![0, 14].contains($0) } ?? true }),
            ("last_seen_days: {exists: false}", { $0.lastSeenAt == nil }),
            ("created_days: {lte: 30}", { created($0) <= 30 }),
            ("created_days: {in: [0, 1, 2]}", { [0, 1, 2].contains(created($0)) }),
            (
                "any: [{stage: Churned}, {all: [{stage: At-risk}, {last_seen_days: {gt: 20}}]}]",
                { $0.stage == "Churned" || ($0.stage == "At-risk" && (days($0).map { $0 > 20 } ?? true)) }
            ),
            (
                "not: {any: [{stage: Active}, {attribute: {score: {gt: 50}}}]}",
                { !($0.stage == "Active" || (score($0).map { $0 > 50 } ?? false)) }
            ),
            (
                """
                all:
                  - stage: {in: [Active, At-risk]}
                  - persona: b2c-bargain-hunter
                  - attribute: {tier: {in: [gold, silver]}}
                  - product: {any: [sportsbook, casino]}
                  - consent: email
                  - events: {kind: deposit, within_days: 30, count: {gte: 1}}
                  - last_seen_days: {gte: 14}
                  - not: {attribute: {country: {eq: IT}}}
                """,
                { c in
                    ["Active", "At-risk"].contains(c.stage ?? "") && c.persona == "b2c-bargain-hunter"
                        && ["gold", "silver"].contains(c.attributes["tier"]?.string ?? "")
                        && !Set(c.products).isDisjoint(with: ["sportsbook", "casino"]) && c.consents["email"] == true
                        && count(c, ["deposit"], 30) >= 1 && (days(c).map { $0 >= 14 } ?? true)
                        && c.attributes["country"]?.string != "IT"
                }
            ),
        ]
    }

    @Test("every rule selects exactly the customers its definition names, and NOT selects the rest")
    func rulesMatchTheirDefinitions() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        var customers = SegmentPopulation.generate()
        try await SegmentPopulation.insert(&customers, on: conn)
        let catalog = SegmentCatalog()
        let catalogue = try await catalog.catalogue(on: conn)
        #expect(catalogue == testCatalogue)
        var nonEmpty = 0
        let rules = Self.rules
        for (rule, expected) in rules {
            let segment = try Segment.parse(try ConfigNode.parse(rule, file: "rule"), catalogue: catalogue)
            let members = customers.filter(expected)
            if !members.isEmpty && members.count < customers.count { nonEmpty += 1 }
            let result = try await catalog.count(segment, now: Self.now, sample: 10, on: conn)
            #expect(result.size == Int64(members.count), "\(rule)")
            #expect(result.sample.map(\.externalID) == members.prefix(10).map(\.externalID), "\(rule)")
            // The complement, as the scheduler writes exclusions: NOT (segment) must hold for everyone else.
            var builder = SQLBuilder(firstIndex: 2)
            let sql = segment.sql(customer: "c", now: "$1::timestamptz", into: &builder)
            let complement: Int64 = try await conn.query(
                "SELECT count(*) FROM customers c WHERE NOT (\(sql))",
                [Self.now as any PostgresEncodable] + builder.parameters
            ).first!.decode(at: 0)
            #expect(complement == Int64(customers.count - members.count), "NOT (\(rule))")
        }
        // The seeded data must make the rules discriminate, or the comparison proves little.
        #expect(nonEmpty >= rules.count - 3, "only \(nonEmpty) rules select a proper subset")
        await conn.close()
        await db.drop()
    }

    @Test("the time window ends at the simulated now: events after it do not count yet")
    func simulatedNow() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let ids = try await Seed.customers(2, on: conn)
        try await conn.query(
            """
            INSERT INTO events (customer_id, kind, occurred_at)
            VALUES ($1, 'deposit', $3), ($2, 'deposit', $3 + interval '2 days')
            """, [ids[0], ids[1], Self.now])
        let segment = try Segment.parse(
            try ConfigNode.parse("events: {kind: deposit, within_days: 1}", file: "r"), catalogue: .init())
        let catalog = SegmentCatalog()
        #expect(try await catalog.count(segment, now: Self.now, on: conn).size == 1)
        #expect(try await catalog.count(segment, now: Self.now.addingTimeInterval(2 * 86_400), on: conn).size == 1)
        #expect(try await catalog.count(segment, now: Self.now.addingTimeInterval(-1), on: conn).size == 0)
        await conn.close()
        await db.drop()
    }

    @Test("a named segment is saved as canonical JSON and loads back equal, also after jsonb reordered it")
    func saveAndLoad() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        try await conn.query(
            """
            INSERT INTO customer_attributes (name, type) VALUES
                ('tier', 'text'), ('country', 'text'), ('score', 'number'), ('vip', 'boolean'), ('birthday', 'date'),
                ('tags', 'list')
            """)
        let catalog = SegmentCatalog()
        let catalogue = try await catalog.catalogue(on: conn)
        let segment = try parseSegment(everyFieldRule)
        #expect(try await catalog.save(name: "everything", segment: segment, on: conn))
        #expect(try await !catalog.save(name: "everything", segment: segment, on: conn), "an unchanged save is a no-op")
        let stored: String = try await conn.query("SELECT definition::text FROM segments WHERE name = 'everything'")
            .first!.decode(at: 0)
        #expect(stored != segment.json, "jsonb keeps its own key order and spacing")
        let loaded = try await catalog.load(name: "everything", catalogue: catalogue, on: conn)
        #expect(loaded == segment)
        #expect(try await catalog.load(name: "nothing", catalogue: catalogue, on: conn) == nil)
        // An attribute dropped from the catalogue makes the stored segment invalid, named as such.
        try await conn.query("DELETE FROM customer_attributes WHERE name = 'tier'")
        do {
            _ = try await catalog.load(name: "everything", catalogue: try await catalog.catalogue(on: conn), on: conn)
            Issue.record("a segment naming an undeclared attribute loaded")
        } catch let error as ConfigError {
            #expect(error.file == "segment everything")
            #expect(error.problem.contains("unknown attribute \"tier\""))
        }
        await conn.close()
        await db.drop()
    }
}
