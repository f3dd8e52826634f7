import CicloChannels
import CicloQueue
import CicloTestSupport
import Foundation
import Postgres
import Testing

/// One test's world: a fresh migrated database, a real `ciclo reporter` process on a free port against it, and
/// `ciclo worker --drain` runs that deliver into a file outbox with links pointing at that reporter.
struct ReporterFixture: Sendable {
    let db: MigrationDatabase
    let conn: PostgresConnection
    let reporter: CicloRun
    let port: Int
    let tokenSecret: String
    let eventsToken: String
    /// The signing secret of the provider `esp` (`POST /webhooks/esp`).
    let providerSecret: String
    let outbox = FileManager.default.temporaryDirectory.appendingPathComponent("ciclo-outbox-\(UUID().uuidString)")

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Runs `body` against a fresh database and a reporter started with `environment` and `arguments` added; stops the reporter
    /// and drops the database afterwards, whatever happens.
    static func with(
        environment: [String: String] = [:], arguments: [String] = [], _ body: (ReporterFixture) async throws -> Void
    ) async throws {
        let db = try await MigrationDatabase.migrated()
        var failure: (any Error)?
        do {
            let conn = try await db.connect()
            let token = "reporter-token-secret-\(UUID().uuidString)"
            let events = "events-token-\(UUID().uuidString)"
            let provider = "esp-secret-\(UUID().uuidString)"
            let reporter = try CicloRun.start(
                ["reporter", "--port", "0"] + arguments, url: db.url,
                environment: [
                    "CICLO_TOKEN_SECRET": token, "CICLO_EVENTS_TOKEN": events, "CICLO_PROVIDER_ESP_SECRET": provider,
                    "CICLO_LOG_LEVEL": "info",
                ].merging(environment) { $1 })
            do {
                let fixture = ReporterFixture(
                    db: db, conn: conn, reporter: reporter, port: try await reporter.listeningPort(),
                    tokenSecret: token, eventsToken: events, providerSecret: provider)
                defer { try? FileManager.default.removeItem(at: fixture.outbox) }
                try await body(fixture)
            } catch { failure = error }
            reporter.stop()
            await conn.close()
        } catch { failure = failure ?? error }
        await db.drop()
        if let failure { throw failure }
    }

    // MARK: HTTP

    func http(
        _ method: String, _ path: String, headers: [String: String] = [:], body: String = ""
    ) async throws -> HTTPExchange.Reply {
        try await HTTPExchange.send(method, path, port: port, headers: headers, body: Data(body.utf8))
    }

    /// The path part of one of this reporter's URLs.
    func path(_ url: String) -> String {
        url.hasPrefix(baseURL) ? String(url.dropFirst(baseURL.count)) : url
    }

    /// A webhook body signed for `esp` the way the reporter documents (X-Ciclo-Timestamp, X-Ciclo-Signature).
    func webhook(
        _ body: String, secret: String? = nil, timestamp: Int64 = Int64(Date().timeIntervalSince1970),
        provider: String = "esp"
    ) async throws -> HTTPExchange.Reply {
        let signature = WebhookSignature.sign(body: Data(body.utf8), timestamp: timestamp, secret: secret ?? providerSecret)
        return try await http("POST", "/webhooks/\(provider)", headers: [
            "Content-Type": "application/json", "X-Ciclo-Timestamp": String(timestamp), "X-Ciclo-Signature": signature,
        ], body: body)
    }

    // MARK: Seeding

    /// A customer with consent for email; returns its id.
    func customer(_ externalID: String, email: String) async throws -> Int64 {
        let id = try await conn.query("""
            INSERT INTO customers (external_id, email, locale, timezone) VALUES ($1, $2, 'en', 'UTC') RETURNING id
            """, [externalID, email]).scalar(Int64.self)
        try await conn.query(
            "INSERT INTO consents (customer_id, channel, granted, source) VALUES ($1, 'email', true, 'test')", [id])
        return id
    }

    /// An active email campaign whose English template links to the shop and to the unsubscribe page.
    func emailCampaign() async throws -> Int64 {
        let id = try await conn.query("""
            INSERT INTO campaigns (key, name, kind, channel, status, definition)
            VALUES ($1, 'Summer offer', 'adhoc', 'email', 'active',
                    '{"delivery": {"email": {"from": "Shop <offers@shop.example>"}}}'::jsonb)
            RETURNING id
            """, ["summer-\(UUID().uuidString.prefix(8))"]).scalar(Int64.self)
        let parts = [
            "subject": "Your code {{offer_code}}",
            "html": "<html><body><p>Use <b>{{offer_code}}</b>.</p>"
                + "<p><a class=\"cta\" href=\"https://shop.example/offer?code={{offer_code}}&amp;utm=summer\">Shop</a>"
                + " <a href='mailto:help@shop.example'>Help</a>"
                + " <a href=\"{{send.unsubscribe_url}}\">Unsubscribe</a></p></body></html>",
            "text": "Use {{offer_code}}: https://shop.example/offer\nUnsubscribe: {{send.unsubscribe_url}}\n",
        ]
        try await conn.query("""
            INSERT INTO message_templates (campaign_id, variant, version, locale, channel, parts, variables)
            VALUES ($1, 'A', 1, 'en', 'email', $2::jsonb,
                    '[{"name": "offer_code"}, {"name": "send.unsubscribe_url"}]'::jsonb)
            """, [id, try JSONB(encoding: parts).text])
        return id
    }

    /// Enqueues one due email the way the scheduler does; returns its idempotency key.
    func enqueue(campaign: Int64, customer: Int64) async throws -> String {
        let key = "summer-\(campaign)-\(customer)-\(UUID().uuidString.prefix(8).lowercased())"
        try await SendQueue().enqueue([
            NewJob(idempotencyKey: key, campaignID: campaign, customerID: customer, channel: "email",
                   payload: JSONB(#"{"variant": "A", "variables": {"offer_code": "SUMMER25"}}"#))
        ], on: conn)
        return key
    }

    /// A delivery as the worker records it, with the provider's message id.
    func recordedDelivery(campaign: Int64, customer: Int64, providerMessageID: String) async throws -> String {
        let key = "recorded-\(UUID().uuidString.prefix(8).lowercased())"
        try await conn.query("""
            INSERT INTO deliveries (job_id, idempotency_key, campaign_id, customer_id, channel, outcome, attempts,
                                    provider_message_id, variant)
            VALUES (0, $1, $2, $3, 'email', 'sent', 1, $4, 'A')
            """, [key, campaign, customer, providerMessageID])
        return key
    }

    /// Runs `ciclo worker --drain --transport file` to its exit, with links pointing at this reporter.
    func drainWorker() async throws {
        let run = try CicloRun.start(
            ["worker", "--transport", "file", "--outbox", outbox.path, "--drain"], url: db.url,
            environment: ["CICLO_TOKEN_SECRET": tokenSecret, "CICLO_PUBLIC_URL": baseURL, "CICLO_LOG_LEVEL": "info"])
        defer { run.stop() }
        let status = await run.wait(timeout: .seconds(60))
        #expect(status == 0, "worker stderr: \(run.stderr.suffix(2000))")
    }

    /// The email the worker wrote for `key` (its delivery's provider id is the file's path in the outbox), parsed.
    func deliveredEmail(_ key: String) async throws -> ParsedEmail {
        let path = try await conn.query(
            "SELECT provider_message_id FROM deliveries WHERE idempotency_key = $1 AND outcome = 'sent'", [key]
        ).scalar(String.self)
        return try PythonEmail.parse(try Data(contentsOf: outbox.appendingPathComponent(path)))
    }

    // MARK: Reading

    struct Recorded: Equatable {
        var kind: String
        var machine: Bool
        var campaign: Int64?
        var customer: Int64?
        var channel: String?
        var reason: String?
    }

    /// The responses of a send (or all, for nil), oldest first.
    func responses(_ key: String? = nil) async throws -> [Recorded] {
        try await conn.query("""
            SELECT kind, machine, campaign_id, customer_id, channel, data->>'machine_reason' FROM responses
            WHERE $1::text IS NULL OR idempotency_key = $1 ORDER BY id
            """, [key]).map {
            Recorded(kind: try $0.decode(at: 0), machine: try $0.decode(at: 1), campaign: try $0.decode(at: 2),
                     customer: try $0.decode(at: 3), channel: try $0.decode(at: 4), reason: try $0.decode(at: 5))
        }
    }

    func count(_ sql: String, _ binds: [any PostgresEncodable] = []) async throws -> Int {
        try await conn.query(sql, binds).scalar(Int.self)
    }

    /// The suppression reason of a customer's channel, or nil.
    func suppression(_ customer: Int64, channel: String = "email") async throws -> String? {
        try await conn.query("SELECT reason FROM suppressions WHERE customer_id = $1 AND channel = $2", [customer, channel])
            .first?.decode(String.self, at: 0)
    }

    /// A send's delivery outcome and reason, once the worker recorded it.
    func delivery(_ key: String) async throws -> (outcome: String, reason: String?)? {
        guard let row = try await conn.query(
            "SELECT outcome, reason FROM deliveries WHERE idempotency_key = $1", [key]).first
        else { return nil }
        return (try row.decode(at: 0), try row.decode(at: 1))
    }
}
