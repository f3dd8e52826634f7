import CicloCampaigns
import CicloScheduler
import CicloTestSupport
import Foundation
import Postgres

/// A migrated database with the named segments and attributes the campaign files refer to.
struct CampaignStoreFixture {
    let db: MigrationDatabase
    let conn: PostgresConnection
    var store: CampaignStore { CampaignStore(connection: conn) }

    static func make() async throws -> CampaignStoreFixture {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        try await conn.query("""
            INSERT INTO segments (name, definition)
            SELECT unnest($1::text[]), '{"stage": {"eq": "At-risk"}}'::jsonb
            """, [["at-risk-players", "vip-managed"]])
        try await conn.query("INSERT INTO customer_attributes (name, type) VALUES ('tier', 'text'), ('score', 'number')")
        return CampaignStoreFixture(db: db, conn: conn)
    }

    func close() async {
        await conn.close()
        await db.drop()
    }

    /// Row counts of every table `apply` writes, to show a refused file wrote nothing.
    func counts() async throws -> [Int] {
        let row = try await conn.query(
            "SELECT (SELECT count(*) FROM campaigns), (SELECT count(*) FROM message_templates)").single()
        return [try row.decode(Int.self, at: 0), try row.decode(Int.self, at: 1)]
    }

    /// The campaigns row as text, to compare before and after.
    func row(_ key: String) async throws -> String {
        try await conn.query("SELECT to_jsonb(c)::text FROM campaigns c WHERE key = $1", [key]).scalar(String.self)
    }

    /// (variant, locale, version) of every stored template, in order.
    func templates(_ key: String) async throws -> [String] {
        try await conn.query("""
            SELECT t.variant || '/' || t.locale || ' v' || t.version FROM message_templates t
            JOIN campaigns c ON c.id = t.campaign_id WHERE c.key = $1 ORDER BY 1
            """, [key]).map { try $0.decode(String.self, at: 0) }
    }

    func apply(_ text: String, file: String = "c.yaml", now: Date = Date(), dryRun: Bool = false)
        async throws -> CampaignStore.Applied
    {
        try await store.apply([CampaignStore.Source(text: text, file: file)], now: now, dryRun: dryRun)[0]
    }
}

enum StoreFiles {
    static let recurring = """
        key: winback-cycle
        name: Win-back cycle
        kind: recurring
        channel: email
        status: active
        priority: 5
        starts_at: 2026-01-01T00:00:00Z
        ends_at: 2026-12-31T00:00:00Z
        holdout: 0.10
        stage: At-risk
        offer_family: winback
        segment: at-risk-players
        exclude: [vip-managed, {attribute: {tier: gold}}]
        variables: {offer_code: COMEBACK10}
        recurring:
          schedule: {cron: "0 9 * * *", timezone: Europe/Lisbon}
          cooldown_days: 21
        variants:
          - name: A
            persona: b2c-bargain-hunter
            templates:
              en:
                subject: "We miss you, {{customer.first_name}}"
                html: "<p>Use {{offer_code}} for 10% off.</p>"
                variables: [{name: customer.first_name, default: there}, offer_code]
              pt:
                subject: "Temos saudades"
                html: "<p>Use {{offer_code}}.</p>"
                variables: [offer_code]
          - name: B
            templates:
              en: {subject: Come back, html: "<p>{{offer_code}}</p>", variables: [offer_code]}
        delivery: {email: {from: "Loja <ofertas@example.com>"}}
        """

    static let trigger = """
        key: deposit-thanks
        name: Thanks
        kind: trigger
        channel: sms
        segment: {stage: Active}
        trigger: {event: deposit, delay: 10m, window: 2h}
        variants:
          - name: thanks
            templates:
              en: {body: "Thanks!"}
        delivery: {sms: {max_segments: 1}}
        """

    static func replacing(_ old: String, with new: String, in text: String = recurring) -> String {
        precondition(text.contains(old), "the file has no \(old)")
        return text.replacingOccurrences(of: old, with: new)
    }

    static var examples: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/campaigns")
    }
}
