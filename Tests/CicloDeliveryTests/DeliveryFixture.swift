import CicloQueue
import CicloTestSupport
import Foundation
import Postgres

/// One test's world: a fresh migrated database, seeded with SQL the way `campaign apply` and imports write it, and
/// `ciclo worker --drain` run against it as a real process.
struct DeliveryFixture {
    let db: MigrationDatabase
    let conn: PostgresConnection
    /// Signs the unsubscribe tokens; different in every test.
    let tokenSecret = "e2e-token-secret-\(UUID().uuidString)"
    let publicURL = "https://ciclo.example/t\(UUID().uuidString.prefix(8).lowercased())"

    /// The delivery settings of every seeded campaign: the From for email, at most one segment for SMS.
    static let campaignDefinition = #"""
        {"delivery": {"email": {"from": "Loja <ofertas@loja.example>"}, "sms": {"max_segments": 1}}}
        """#
    /// The variables every seeded template declares: a name with a default, an offer code the send must carry, and
    /// the unsubscribe link Ciclo adds.
    static let variables = #"""
        [{"name": "customer.first_name", "default": "cliente"}, {"name": "offer_code"},
         {"name": "send.unsubscribe_url"}]
        """#
    /// The payload the scheduler writes for variant A of the summer offer.
    static let offerPayload = #"{"variant": "A", "variables": {"offer_code": "VERAO25"}}"#

    /// Runs `body` on a fresh migrated database and drops the database afterwards, whatever happens.
    static func with(_ body: (DeliveryFixture) async throws -> Void) async throws {
        let db = try await MigrationDatabase.migrated()
        let conn: PostgresConnection
        do {
            conn = try await db.connect()
        } catch {
            await db.drop()
            throw error
        }
        let fixture = DeliveryFixture(db: db, conn: conn)
        var failure: (any Error)?
        do { try await body(fixture) } catch { failure = error }
        await conn.close()
        await db.drop()
        if let failure { throw failure }
    }

    // MARK: Seeding

    /// An active campaign on `channel`; returns its id.
    func campaign(_ key: String, channel: String) async throws -> Int64 {
        try await conn.query("""
            INSERT INTO campaigns (key, name, kind, channel, status, definition)
            VALUES ($1, 'Oferta de verão', 'adhoc', $2, 'active', $3::jsonb)
            RETURNING id
            """, [key, channel, Self.campaignDefinition]).scalar(Int64.self)
    }

    /// Version 1 of a template; `parts` is a JSON object of part name to Mustache source.
    func template(
        campaign: Int64, variant: String = "A", locale: String, channel: String, parts: [String: String],
        variables: String = DeliveryFixture.variables
    ) async throws {
        try await conn.query("""
            INSERT INTO message_templates (campaign_id, variant, version, locale, channel, parts, variables)
            VALUES ($1, $2, 1, $3, $4, $5::jsonb, $6::jsonb)
            """, [campaign, variant, locale, channel, try JSONB(encoding: parts).text, variables])
    }

    /// A customer with consent on `consents` (granted); `firstName` goes to attributes. Returns the id.
    func customer(
        _ externalID: String, email: String? = nil, phone: String? = nil, locale: String = "pt",
        firstName: String? = nil, consents: [String]
    ) async throws -> Int64 {
        let attributes = try JSONB(encoding: firstName.map { ["first_name": $0] } ?? [:])
        let id = try await conn.query("""
            INSERT INTO customers (external_id, email, phone, locale, timezone, attributes)
            VALUES ($1, $2, $3, $4, 'Europe/Lisbon', $5::jsonb)
            RETURNING id
            """, [externalID, email, phone, locale, attributes.text]).scalar(Int64.self)
        try await conn.query("""
            INSERT INTO consents (customer_id, channel, granted, source)
            SELECT $1, c, true, 'e2e' FROM unnest($2::text[]) c
            """, [id, consents])
        return id
    }

    /// A suppression, which overrides consent.
    func suppress(_ customer: Int64, channel: String, reason: String) async throws {
        try await conn.query(
            "INSERT INTO suppressions (customer_id, channel, reason) VALUES ($1, $2, $3)", [customer, channel, reason])
    }

    /// Enqueues one due send the way the scheduler does; returns its idempotency key.
    @discardableResult
    func enqueue(
        campaign: Int64, customer: Int64, channel: String, payload: String = DeliveryFixture.offerPayload,
        maxAttempts: Int32 = 5
    ) async throws -> String {
        let key = "summer-\(campaign)-\(customer)-\(UUID().uuidString.prefix(8).lowercased())"
        try await SendQueue().enqueue([
            NewJob(idempotencyKey: key, campaignID: campaign, customerID: customer, channel: channel,
                   maxAttempts: maxAttempts, payload: JSONB(payload))
        ], on: conn)
        return key
    }

    // MARK: Running

    /// The environment the worker gets: the token secret and link base, plus `extra`. Delivery variables of the
    /// test runner's own environment are removed, so only what the test names reaches the worker.
    func environment(_ extra: [String: String]) -> [String: String] {
        ["CICLO_TOKEN_SECRET": tokenSecret, "CICLO_PUBLIC_URL": publicURL, "CICLO_LOG_LEVEL": "info"]
            .merging(extra) { $1 }
    }

    /// Runs `ciclo worker --drain --transport <transport>` to its exit (at most 60 s; it is killed past that), with
    /// `extra` added to the environment and the variables `unset` names left out.
    func drain(
        _ transport: String, _ arguments: [String] = [], environment extra: [String: String] = [:],
        unset: Set<String> = []
    ) async throws -> (status: Int32?, stderr: String) {
        let environment = environment(extra).filter { !unset.contains($0.key) }
        let run = try CicloRun(
            url: db.url, arguments: ["worker", "--transport", transport, "--drain"] + arguments,
            extraEnvironment: environment)
        run.process.environment = run.process.environment?.filter { name, _ in
            environment[name] != nil || !Self.deliveryVariables.contains { name.hasPrefix($0) }
        }
        try run.process.run()
        defer { run.stop() }
        let status = await run.wait(timeout: .seconds(60))
        return (status, run.stderr)
    }

    static let deliveryVariables = [
        "CICLO_TOKEN_SECRET", "CICLO_PUBLIC_URL", "CICLO_EMAIL_FROM", "CICLO_UNSUBSCRIBE_MAILBOX", "CICLO_SMTP_",
        "CICLO_SMS_", "CICLO_PUSH_", "CICLO_WEBHOOK_",
    ]

    // MARK: Reading outcomes

    /// What deliveries says about a send; nil when it has no row.
    struct Delivery: Equatable {
        var outcome: String
        var reason: String?
        var variant: String?
        var attempts: Int
        var providerMessageID: String?
    }

    func delivery(_ key: String) async throws -> Delivery? {
        guard let row = try await conn.query("""
            SELECT outcome, reason, variant, attempts, provider_message_id FROM deliveries WHERE idempotency_key = $1
            """, [key]).first
        else { return nil }
        return Delivery(
            outcome: try row.decode(at: 0), reason: try row.decode(at: 1), variant: try row.decode(at: 2),
            attempts: try row.decode(at: 3), providerMessageID: try row.decode(at: 4))
    }

    /// A send still in the queue; nil once it left (finished).
    struct QueuedJob {
        var state: String
        var attempts: Int
        var lastError: String?
        var errorCount: Int
        /// Seconds until it is due again (negative once due).
        var dueIn: Double
    }

    func queued(_ key: String) async throws -> QueuedJob? {
        guard let row = try await conn.query("""
            SELECT state, attempts, last_error, jsonb_array_length(errors), extract(epoch FROM run_at - now())::float8
            FROM send_jobs WHERE idempotency_key = $1
            """, [key]).first
        else { return nil }
        return QueuedJob(
            state: try row.decode(at: 0), attempts: try row.decode(at: 1), lastError: try row.decode(at: 2),
            errorCount: try row.decode(at: 3), dueIn: try row.decode(at: 4))
    }
}
