import CicloTestSupport
import Foundation
import Postgres

/// A jsonb value as the tests store it, including values of the wrong type for their declared attribute.
enum StoredValue {
    case string(String)
    case number(Double)
    case bool(Bool)
    case array([String])
    case null

    var json: String {
        switch self {
        case .string(let value): return "\"\(value)\""
        case .number(let value):
            return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
        case .bool(let value): return String(value)
        case .array(let values): return "[" + values.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        case .null: return "null"
        }
    }

    var string: String? { if case .string(let value) = self { value } else { nil } }
    var number: Double? { if case .number(let value) = self { value } else { nil } }
    var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    var array: [String]? { if case .array(let values) = self { values } else { nil } }
}

struct SeededEvent {
    var kind: String
    var payload: [String: StoredValue]
    var at: Date
}

/// One seeded customer, kept in Swift so every rule's expected members are computed without SQL.
struct SeededCustomer {
    var id: Int64 = 0
    var externalID: String
    var stage: String?
    var persona: String?
    var locale: String
    var timezone: String
    var attributes: [String: StoredValue]
    var products: [String]
    var consents: [String: Bool]
    var suppressed: Set<String>
    var createdAt: Date
    var lastSeenAt: Date?
    var events: [SeededEvent]

    /// Whole 24-hour days from `date` to `now`, rounded down.
    static func days(since date: Date, now: Date) -> Int { Int((now.timeIntervalSince(date) / 86_400).rounded(.down)) }

    /// The events of the kinds in (now - days, now], or up to now without a window.
    func events(_ kinds: Set<String>, within days: Int?, now: Date) -> [SeededEvent] {
        events.filter { event in
            kinds.contains(event.kind) && event.at <= now
                && (days.map { event.at > now.addingTimeInterval(-Double($0) * 86_400) } ?? true)
        }
    }
}

/// A few hundred customers with every kind of value the language compares, boundary cases included
/// (events exactly at the window's edges, last seen exactly n days ago, attributes of the wrong type).
enum SegmentPopulation {
    static let now = Date(timeIntervalSince1970: 1_772_366_400)  // 2026-03-01T12:00:00Z

    static func generate(count: Int = 400, seed: UInt64 = 5) -> [SeededCustomer] {
        var random = SplitMix64(seed: seed)
        func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
        func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }
        func secondsAgo(maxDays: Int) -> Date {
            now.addingTimeInterval(-Double(random.next() % UInt64(maxDays * 86_400)))
        }
        var customers: [SeededCustomer] = []
        for index in 0..<count {
            var attributes: [String: StoredValue] = [:]
            if let tier = pick([StoredValue.string("gold"), .string("silver"), .string("bronze"), .number(5), nil]) {
                attributes["tier"] = tier
            }
            if let country = pick([StoredValue.string("IT"), .string("PT"), .string("BR"), .null, nil]) {
                attributes["country"] = country
            }
            if let score = pick([
                StoredValue.number(Double(random.next() % 100)), .number(Double(random.next() % 200) / 2),
                .number(10), .number(20.5), .number(1e300), .string("high"), nil,
            ]) {
                attributes["score"] = score
            }
            if let vip = pick([StoredValue.bool(true), .bool(false), .string("yes"), nil]) { attributes["vip"] = vip }
            let year = 1970 + Int(random.next() % 40)
            let birthday =
                index % 30 == 8
                ? "1995-02-28"
                : String(format: "%04d-%02d-%02d", year, 1 + Int(random.next() % 12), 1 + Int(random.next() % 28))
            if let value = pick([
                StoredValue.string(birthday), .string("\(birthday)T10:00:00Z"), .string("1995-02-31"),
                .string("someday"), .number(1990), nil,
            ]) {
                attributes["birthday"] = value
            }
            if let tags = pick([
                StoredValue.array(["vip"]), .array(["vip", "beta"]), .array(["newsletter"]), .array([]),
                .string("vip"), nil,
            ]) {
                attributes["tags"] = tags
            }
            var events: [SeededEvent] = []
            for _ in 0..<Int(random.next() % 7) {
                var payload: [String: StoredValue] = ["category": pick([.string("casino"), .string("sportsbook")])]
                if let amount = pick([
                    StoredValue.number(Double(random.next() % 120)), .number(12.5), .string("12"), nil,
                ]) {
                    payload["amount"] = amount
                }
                let at =
                    chance(5) ? now.addingTimeInterval(Double(1 + random.next() % 400_000)) : secondsAgo(maxDays: 60)
                events.append(SeededEvent(kind: pick(["deposit", "purchase", "login"]), payload: payload, at: at))
            }
            var lastSeen: Date? = chance(15) ? nil : secondsAgo(maxDays: 40)
            // Boundaries: an event exactly 30 and 7 days before now and one exactly at now; last seen exactly 14
            // and 3 days ago.
            switch index % 25 {
            case 1:
                events.append(
                    SeededEvent(
                        kind: "deposit", payload: ["amount": .number(60)], at: now.addingTimeInterval(-30 * 86_400)))
            case 2: events.append(SeededEvent(kind: "deposit", payload: ["amount": .number(60)], at: now))
            case 3:
                events.append(
                    SeededEvent(
                        kind: "deposit", payload: ["amount": .number(1)], at: now.addingTimeInterval(-7 * 86_400)))
            case 4: lastSeen = now.addingTimeInterval(-14 * 86_400)
            case 5: lastSeen = now.addingTimeInterval(-3 * 86_400)
            case 6: lastSeen = now.addingTimeInterval(3_600)  // a clock ahead: seen "in the future"
            default: break
            }
            var consents: [String: Bool] = [:]
            if let email = pick([true, false, nil]) { consents["email"] = email }
            if let sms = pick([true, nil]) { consents["sms"] = sms }
            customers.append(
                SeededCustomer(
                    externalID: String(format: "seg-%04d", index),
                    stage: pick([nil, "New", "Active", "At-risk", "Churned", "Reactivated"]),
                    persona: pick([nil, "b2c-bargain-hunter", "b2c-high-roller", "b2c-casual"]),
                    locale: pick(["en", "pt-BR", "it", "pt"]),
                    timezone: pick(["UTC", "Europe/Lisbon", "Europe/Rome", "America/Sao_Paulo"]),
                    attributes: attributes,
                    products: ["sportsbook", "casino", "poker", "lottery"].filter { _ in chance(35) },
                    consents: consents,
                    suppressed: chance(10) ? ["email"] : [],
                    createdAt: index % 50 == 7 ? now.addingTimeInterval(-2 * 86_400) : secondsAgo(maxDays: 400),
                    lastSeenAt: lastSeen,
                    events: events))
        }
        return customers
    }

    /// Writes the customers (set-based, through unnest) and their consents, suppressions and events; fills in ids.
    static func insert(_ customers: inout [SeededCustomer], on conn: PostgresConnection) async throws {
        let attributes = customers.map { customer in
            "{"
                + customer.attributes.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value.json)" }
                .joined(separator: ",") + "}"
        }
        let rows = try await conn.query(
            """
            INSERT INTO customers (external_id, stage, persona, locale, timezone, attributes, product_preferences,
                                   created_at, last_seen_at)
            SELECT e, s, p, l, t, a::jsonb, string_to_array(pp, ','), c, ls
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                        $8::timestamptz[], $9::timestamptz[]) AS u(e, s, p, l, t, a, pp, c, ls)
            RETURNING id, external_id
            """,
            [
                customers.map(\.externalID), customers.map(\.stage), customers.map(\.persona), customers.map(\.locale),
                customers.map(\.timezone), attributes, customers.map { $0.products.joined(separator: ",") },
                customers.map(\.createdAt), customers.map(\.lastSeenAt),
            ])
        var ids: [String: Int64] = [:]
        for row in rows { ids[try row.decode(at: 1)] = try row.decode(at: 0) }
        for index in customers.indices { customers[index].id = ids[customers[index].externalID]! }

        let consents = customers.flatMap { customer in customer.consents.map { (customer.id, $0.key, $0.value) } }
        try await conn.query(
            """
            INSERT INTO consents (customer_id, channel, granted)
            SELECT * FROM unnest($1::int8[], $2::text[], $3::bool[])
            """,
            [consents.map(\.0), consents.map(\.1), consents.map(\.2)])
        let suppressions = customers.flatMap { customer in customer.suppressed.map { (customer.id, $0) } }
        try await conn.query(
            """
            INSERT INTO suppressions (customer_id, channel, reason)
            SELECT c, ch, 'unsubscribed' FROM unnest($1::int8[], $2::text[]) AS u(c, ch)
            """, [suppressions.map(\.0), suppressions.map(\.1)])
        let events = customers.flatMap { customer in customer.events.map { (customer.id, $0) } }
        let payloads = events.map { _, event in
            "{"
                + event.payload.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value.json)" }
                .joined(separator: ",") + "}"
        }
        try await conn.query(
            """
            INSERT INTO events (customer_id, kind, payload, occurred_at)
            SELECT c, k, p::jsonb, o FROM unnest($1::int8[], $2::text[], $3::text[], $4::timestamptz[]) AS u(c, k, p, o)
            """, [events.map(\.0), events.map(\.1.kind), payloads, events.map(\.1.at)])
        try await conn.query(
            """
            INSERT INTO customer_attributes (name, type) VALUES
                ('tier', 'text'), ('country', 'text'), ('score', 'number'), ('vip', 'boolean'), ('birthday', 'date'),
                ('tags', 'list')
            """)
        try await conn.query("ANALYZE customers")
    }
}
