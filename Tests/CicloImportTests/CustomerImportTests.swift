import CicloImport
import CicloTestSupport
import Foundation
import Postgres
import Synchronization
import Testing

@Suite("customer import: CSV and JSON Lines upserts")
struct CustomerImportTests {
    static let header = """
        external_id,email,phone,push_token,locale,timezone,stage,persona,product_preferences,attributes,attr.tier,\
        attr.ltv,attr.vip,attr.sports,attr.joined,consent.email,consent.sms,consent.push,consent.webhook,last_seen_at
        """

    /// Declares typed attributes, so CSV cells are stored as numbers, booleans, lists and dates.
    func declareAttributes(_ fixture: ImportFixture) async throws {
        try await fixture.conn.query(
            """
            INSERT INTO customer_attributes (name, type)
            VALUES ('ltv', 'number'), ('vip', 'boolean'), ('sports', 'list'), ('joined', 'date'), ('tier', 'text')
            """)
    }

    func attributesEqual(_ fixture: ImportFixture, _ externalID: String, _ json: String) async throws -> Bool {
        try await fixture.conn.query(
            "SELECT attributes = $2::jsonb FROM customers WHERE external_id = $1", [externalID, json]
        ).scalar(Bool.self)
    }

    @Test("a CSV file stores every field, attributes typed by the catalogue, and consent per channel")
    func csvImport() async throws {
        try await ImportFixture.with { fixture in
            try await declareAttributes(fixture)
            let path = try fixture.file(
                "customers.csv",
                """
                \(Self.header)
                c1,ana@example.com,+351912345678,tok-1,pt-BR,europe/lisbon,Active,bargain_hunter, shoes; bags;shoes,\
                "{""first_name"": ""Ana"", ""tier"": ""silver""}",gold,123.5,TRUE,football;tennis,2024-05-01,\
                true,false,,true,2026-03-01T09:30:00+01:00
                c2,bo@example.com,,,,,,,,,,,,,,,,,,

                """)
            let report = try await fixture.customers(path)
            #expect(
                report
                    == ImportReport(kind: .customers, read: 2, inserted: 2, updated: 0, rejected: 0, firstRejects: []))
            #expect(report.summary == "customers: 2 read, 2 inserted, 0 updated, 0 rejected")

            let c1 = try await fixture.customer("c1")
            #expect(c1["email"] == "ana@example.com")
            #expect(c1["phone"] == "+351912345678")
            #expect(c1["push_token"] == "tok-1")
            #expect(c1["locale"] == "pt-BR")
            #expect(c1["timezone"] == "Europe/Lisbon", "stored in the server's spelling")
            #expect(c1["stage"] == "Active")
            #expect(c1["persona"] == "bargain_hunter")
            #expect(c1["product_preferences"] == "shoes;bags", "trimmed, repeats dropped")
            #expect(c1["last_seen_at"] == "2026-03-01T08:30:00.000000")
            #expect(
                try await attributesEqual(
                    fixture, "c1",
                    """
                    {"first_name": "Ana", "tier": "gold", "ltv": 123.5, "vip": true, "sports": ["football", "tennis"],
                     "joined": "2024-05-01"}
                    """), "attr.tier wins over the attributes column; declared types are kept")
            #expect(try await fixture.consents("c1") == ["email=true", "sms=false", "webhook=true"])

            let c2 = try await fixture.customer("c2")
            #expect(c2["locale"] == "en" && c2["timezone"] == "UTC", "the column defaults")
            #expect(c2["attributes"] == "{}" && c2["product_preferences"] == "" && c2["phone"] == nil)
            #expect(try await fixture.consents("c2") == [], "no consent given, none stored")
        }
    }

    @Test("a JSON Lines file stores the same fields; an integer external_id is taken as text")
    func jsonLinesImport() async throws {
        try await ImportFixture.with { fixture in
            try await declareAttributes(fixture)
            let path = try fixture.file(
                "customers.jsonl",
                """
                {"external_id": "c1", "email": "ana@example.com", "phone": "+351912345678", "push_token": "tok-1", \
                "locale": "pt-BR", "timezone": "Europe/Lisbon", "stage": "Active", "persona": "bargain_hunter", \
                "product_preferences": ["shoes", "bags"], "attributes": {"first_name": "Ana", "ltv": 123.5, \
                "vip": true, "sports": ["football"], "nested": {"a": [1, null]}}, \
                "consent": {"email": true, "sms": false, "push": null}, "last_seen_at": "2026-03-01T09:30:00Z"}
                {"external_id": 12345, "email": null, "locale": ""}
                """)
            let report = try await fixture.customers(path)
            #expect(report.summary == "customers: 2 read, 2 inserted, 0 updated, 0 rejected")
            let c1 = try await fixture.customer("c1")
            #expect(
                c1["email"] == "ana@example.com" && c1["timezone"] == "Europe/Lisbon"
                    && c1["persona"] == "bargain_hunter")
            #expect(c1["product_preferences"] == "shoes;bags")
            #expect(c1["last_seen_at"] == "2026-03-01T09:30:00.000000")
            #expect(
                try await attributesEqual(
                    fixture, "c1",
                    """
                    {"first_name": "Ana", "ltv": 123.5, "vip": true, "sports": ["football"], "nested": {"a": [1, null]}}
                    """))
            #expect(try await fixture.consents("c1") == ["email=true", "sms=false"], "null consent is not given")
            let numeric = try await fixture.customer("12345")
            #expect(numeric["email"] == nil && numeric["locale"] == "en", "null and empty mean not given")
        }
    }

    @Test("re-importing updates only what a row gives: other fields, attributes and consents are kept")
    func reimportKeepsStoredFields() async throws {
        try await ImportFixture.with { fixture in
            try await declareAttributes(fixture)
            let first = try fixture.file(
                "first.csv",
                """
                \(Self.header)
                c1,ana@example.com,+351912345678,tok-1,pt-BR,Europe/Lisbon,Active,bargain_hunter,shoes,\
                "{""first_name"": ""Ana""}",gold,100,true,,,true,,,true,2026-03-01T09:30:00Z
                """)
            _ = try await fixture.customers(first)

            // A sparse CSV: only the email and one consent; every empty cell keeps the stored value.
            let sparse = try fixture.file(
                "sparse.csv", "external_id,email,timezone,consent.sms,last_seen_at\nc1,new@example.com,,true,\n")
            let second = try await fixture.customers(sparse)
            #expect(second.summary == "customers: 1 read, 0 inserted, 1 updated, 0 rejected")
            var c1 = try await fixture.customer("c1")
            #expect(c1["email"] == "new@example.com")
            #expect(c1["phone"] == "+351912345678" && c1["push_token"] == "tok-1" && c1["locale"] == "pt-BR")
            #expect(c1["timezone"] == "Europe/Lisbon" && c1["stage"] == "Active" && c1["persona"] == "bargain_hunter")
            #expect(c1["product_preferences"] == "shoes")
            #expect(c1["last_seen_at"] == "2026-03-01T09:30:00.000000")
            #expect(
                try await attributesEqual(
                    fixture, "c1", #"{"first_name": "Ana", "tier": "gold", "ltv": 100, "vip": true}"#))
            #expect(try await fixture.consents("c1") == ["email=true", "sms=true", "webhook=true"])

            // JSON Lines: attributes merge key by key, a list replaces the stored list, last_seen_at never goes back.
            let third = try fixture.file(
                "third.jsonl",
                """
                {"external_id": "c1", "stage": "At-risk", "product_preferences": ["bags"], \
                "attributes": {"vip": false, "extra": 1}, "last_seen_at": "2020-01-01T00:00:00Z"}
                """)
            #expect(try await fixture.customers(third).updated == 1)
            c1 = try await fixture.customer("c1")
            #expect(c1["stage"] == "At-risk" && c1["product_preferences"] == "bags" && c1["email"] == "new@example.com")
            #expect(c1["last_seen_at"] == "2026-03-01T09:30:00.000000", "an older last_seen_at does not move it back")
            #expect(
                try await attributesEqual(
                    fixture, "c1", #"{"first_name": "Ana", "tier": "gold", "ltv": 100, "vip": false, "extra": 1}"#))
            #expect(try await fixture.count("customers") == 1)
        }
    }

    @Test("consent changes only on the channels a row names; an unchanged consent keeps the time it was given")
    func consents() async throws {
        try await ImportFixture.with { fixture in
            func updatedAt(_ channel: String) async throws -> PostgresTimestamp {
                try await fixture.conn.query(
                    "SELECT updated_at FROM consents WHERE channel = $1", [channel]
                ).scalar(PostgresTimestamp.self)
            }
            let grant = try fixture.file("grant.csv", "external_id,consent.email\nc1,true\n")
            _ = try await fixture.customers(grant)
            let given = try await updatedAt("email")
            #expect(
                try await fixture.conn.query("SELECT source FROM consents").scalar(String.self) == "import:grant.csv")

            let more = try fixture.file(
                "more.jsonl", #"{"external_id": "c1", "consent": {"email": true, "push": false}}"#)
            _ = try await fixture.customers(more)
            #expect(try await fixture.consents("c1") == ["email=true", "push=false"])
            #expect(try await updatedAt("email") == given, "granting again does not move the time it was given")

            let revoke = try fixture.file("revoke.csv", "external_id,consent.email,consent.push\nc1,false,\n")
            _ = try await fixture.customers(revoke)
            #expect(try await fixture.consents("c1") == ["email=false", "push=false"])
            #expect(try await updatedAt("email") > given)
        }
    }

    @Test("an external_id on several lines: the last line wins, the earlier ones are rejected naming it")
    func repeatedExternalID() async throws {
        try await ImportFixture.with { fixture in
            let path = try fixture.file(
                "repeat.csv",
                """
                external_id,email
                c1,first@example.com
                c2,two@example.com
                c1,last@example.com
                """)
            let report = try await fixture.customers(path)
            #expect(report.summary == "customers: 3 read, 2 inserted, 0 updated, 1 rejected")
            #expect(
                report.firstRejects == [
                    RejectedRow(line: 2, reason: #"external_id "c1" appears again on line 4, which replaces this row"#)
                ])
            #expect(try await fixture.customer("c1")["email"] == "last@example.com")
        }
    }

    @Test("progress is reported while reading a long file, then once when applying")
    func progress() async throws {
        try await ImportFixture.with { fixture in
            let rows = (1...5_000).map { "c\($0),c\($0)@example.com" }.joined(separator: "\n")
            let path = try fixture.file("long.csv", "external_id,email\n" + rows)
            let seen = Mutex<[ImportProgress]>([])
            let options = ImportOptions(progress: { p in seen.withLock { $0.append(p) } }, progressInterval: .zero)
            let report = try await fixture.customers(path, options)
            #expect(report.inserted == 5_000)
            let phases = seen.withLock { $0 }
            #expect(phases.filter { $0.phase == .reading }.map(\.rows) == [1024, 2048, 3072, 4096])
            #expect(phases.last?.phase == .applying && phases.last?.rows == 5_000)
        }
    }
}
