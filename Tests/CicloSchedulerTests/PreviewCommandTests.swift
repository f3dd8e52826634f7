import CicloChannels
import CicloTestSupport
import Foundation
import Postgres
import Testing

/// `ciclo preview` as a real process, on campaigns applied from the example files: the message it prints is what the
/// worker's handler makes (an email a MIME parser reads, the SMS request with its encoding and segments, the push
/// and webhook JSON), its links do not work, it writes nothing, and bad input gets an exit status and a sentence.
@Suite("ciclo preview, as a real process")
struct PreviewCommandTests {
    static let environment = [
        "CICLO_TOKEN_SECRET": "preview-test-secret-0123456789", "CICLO_PUBLIC_URL": "https://ciclo.example",
        "CICLO_UNSUBSCRIBE_MAILBOX": "unsubscribe@ciclo.example", "CICLO_LOG_LEVEL": "error",
    ]

    func ciclo(_ arguments: [String], _ db: MigrationDatabase) async throws -> CicloRun {
        let run = try CicloRun.start(arguments, url: db.url, environment: Self.environment)
        if await run.wait(timeout: .seconds(60)) == nil { run.stop() }
        return run
    }

    func preview(_ arguments: [String], _ db: MigrationDatabase) async throws -> CicloRun {
        try await ciclo(["preview"] + arguments, db)
    }

    /// Runs `body` on a fresh database with the example campaigns applied and two customers seeded as an import
    /// writes them; the database is dropped afterwards, whatever happens.
    func withWorld(_ body: (MigrationDatabase, PostgresConnection) async throws -> Void) async throws {
        let db = try await MigrationDatabase.migrated()
        var failure: (any Error)?
        do {
            let conn = try await seed(db)
            do { try await body(db, conn) } catch { failure = error }
            await conn.close()
        } catch {
            failure = error
        }
        await db.drop()
        if let failure { throw failure }
    }

    func seed(_ db: MigrationDatabase) async throws -> PostgresConnection {
        let files = [
            "winback-recurring.yaml", "deposit-trigger.yaml", "big-moments-experience.yaml",
            "sales-handoff-trigger.yaml",
        ].map { StoreFiles.examples.appendingPathComponent($0).path }
        let lifecycle = StoreFiles.examples.deletingLastPathComponent().appendingPathComponent("ciclo.yaml")
        let configuration = try await ciclo(["config", "apply", lifecycle.path], db)
        #expect(configuration.process.terminationStatus == 0, "\(configuration.stderr)")
        let apply = try await ciclo(["campaign", "apply"] + files, db)
        #expect(apply.process.terminationStatus == 0, "\(apply.stderr)")
        let conn = try await db.connect()
        try await conn.query("""
            INSERT INTO customers (external_id, email, phone, push_token, locale, timezone, stage, persona, attributes)
            VALUES ('ana', 'ana@example.com', '+351912345678', 'device-ana', 'pt', 'Europe/Lisbon', 'active',
                    'b2b-buyer', '{"first_name": "Conceição"}'),
                   ('bruno', 'bruno@example.com', NULL, NULL, 'it', 'Europe/Rome', 'active', NULL, '{}')
            """)
        try await conn.query("""
            INSERT INTO consents (customer_id, channel, granted, source)
            SELECT id, ch, true, 'test' FROM customers, unnest(ARRAY['email', 'sms', 'push', 'webhook']) ch
            WHERE external_id = 'ana'
            """)
        return conn
    }

    @Test("an email: the worker's MIME message, both variants, Python's parser reads it; nothing is written")
    func email() async throws {
        try await withWorld { db, conn in
            let tables = [
                "send_jobs", "send_keys", "deliveries", "send_decisions", "events", "suppressions", "consents",
                "responses",
            ]
            var before: [String: Int] = [:]
            for table in tables {
                before[table] = try await conn.query("SELECT count(*) FROM \(table)").scalar(Int.self)
            }
            let run = try await preview(["--campaign", "winback-cycle", "--customer", "ana"], db)
            #expect(run.process.terminationStatus == 0, "\(run.stderr)")
            #expect(run.stdout.hasPrefix("campaign winback-cycle, customer ana, email, variant A (of A, B)\n"))
            let message = try #require(
                run.stdout.range(of: "RCPT TO:<ana@example.com>\n\n").map { run.stdout[$0.upperBound...] })
            let parsed = try PythonEmail.parse(Data(message.utf8))
            #expect(parsed.defects == [])
            #expect(parsed.header("Subject") == "Temos saudades suas, Conceição")
            #expect(parsed.header("From") == "Loja Ciclo <ofertas@demo.example>")
            #expect(parsed.header("Reply-To") == "Loja Ciclo <ajuda@demo.example>")
            #expect(parsed.header("List-Unsubscribe")?.contains("<https://ciclo.example/u/") == true)
            #expect(parsed.header("List-Unsubscribe")?.contains("<mailto:unsubscribe@ciclo.example?subject=") == true)
            #expect(parsed.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click")
            let html = try #require(parsed.part("text/html")?.content)
            #expect(html.contains("<p>Olá Conceição,</p>"))
            #expect(html.contains("<strong>COMEBACK10</strong>"))
            #expect(html.contains("https://ciclo.example/o/"), "the open pixel, as the worker adds it")
            #expect(parsed.part("text/plain")?.content.contains("Olá Conceição,") == true)

            let other = try await preview(["--campaign", "winback-cycle", "--customer", "ana", "--variant", "B"], db)
            #expect(other.process.terminationStatus == 0, "\(other.stderr)")
            #expect(other.stdout.contains(", variant B (of A, B)\n"))
            let otherMessage = try #require(
                other.stdout.range(of: "RCPT TO:<ana@example.com>\n\n").map { other.stdout[$0.upperBound...] })
            let otherSubject = try PythonEmail.parse(Data(otherMessage.utf8)).header("Subject")
            #expect(otherSubject != nil && otherSubject != parsed.header("Subject"), "variant B has its own content")

            for table in tables {
                let count = try await conn.query("SELECT count(*) FROM \(table)").scalar(Int.self)
                #expect(count == before[table], "\(table)")
            }
            // The links look as sent but are signed with a throwaway secret: the reporter refuses them.
            let unsubscribe = try #require(parsed.header("List-Unsubscribe"))
            let token = try #require(
                unsubscribe.firstRange(of: "/u/").map { unsubscribe[$0.upperBound...].prefix { $0 != ">" } })
            #expect(throws: SignedToken.VerificationError.badSignature) {
                try SignedToken.verify(String(token), purpose: "u", secret: Self.environment["CICLO_TOKEN_SECRET"]!)
            }
        }
    }

    @Test("SMS, push and webhook: the provider request, with the SMS's encoding and segment count")
    func httpChannels() async throws {
        try await withWorld { db, _ in
            let sms = try await preview(["--campaign", "deposit-thanks", "--customer", "ana"], db)
            #expect(sms.process.terminationStatus == 0, "\(sms.stderr)")
            #expect(sms.stdout.contains("\nSMS: 1 segment, "), "\(sms.stdout)")
            #expect(sms.stdout.contains("\"to\":\"+351912345678\""))
            #expect(sms.stdout.contains("Idempotency-Key: preview:deposit-thanks:ana"))
            let push = try await preview(["--campaign", "big-moments", "--customer", "ana"], db)
            #expect(push.process.terminationStatus == 0, "\(push.stderr)")
            #expect(push.stdout.contains("device-ana"), "\(push.stdout)")
            let webhook = try await preview(["--campaign", "sales-handoff", "--customer", "ana"], db)
            #expect(webhook.process.terminationStatus == 0, "\(webhook.stderr)")
            #expect(webhook.stdout.contains("\nX-Ciclo-Signature: sha256="), "\(webhook.stdout)")
            #expect(webhook.stdout.contains("\"customer\":\"ana\""))
        }
    }

    @Test("bad input: unknown campaign, customer, variant or channel; no consent and no address exit 2 with why")
    func badInput() async throws {
        try await withWorld { db, _ in
            let noCampaign = try await preview(["--campaign", "nope", "--customer", "ana"], db)
            #expect(noCampaign.process.terminationStatus == 66)
            #expect(noCampaign.stderr.contains("No campaign has the key \"nope\"."))
            let noCustomer = try await preview(["--campaign", "winback-cycle", "--customer", "nobody"], db)
            #expect(noCustomer.process.terminationStatus == 66)
            #expect(noCustomer.stderr.contains("No customer has the external id \"nobody\"."), "\(noCustomer.stderr)")
            let noVariant = try await preview(
            ["--campaign", "winback-cycle", "--customer", "ana", "--variant", "Z"], db)
            #expect(noVariant.process.terminationStatus == 65)
            #expect(noVariant.stderr.contains("Campaign winback-cycle has no variant \"Z\"; its variants are A, B."))
            let wrongChannel = try await preview(
            ["--campaign", "winback-cycle", "--customer", "ana", "--channel", "sms"], db)
            #expect(wrongChannel.process.terminationStatus == 65)
            #expect(wrongChannel.stderr.contains("Campaign winback-cycle sends on email, not sms."))

            // Bruno gave no consent: a worker stops at the send-time check, and the preview says so first.
            let blocked = try await preview(["--campaign", "winback-cycle", "--customer", "bruno"], db)
            #expect(blocked.process.terminationStatus == 2, "\(blocked.stderr)")
            #expect(blocked.stdout.contains("not sent: a worker would stop at the send-time check (no_consent)"))
            #expect(blocked.stdout.contains("RCPT TO:<bruno@example.com>"))
            // Nor has he a phone: the SMS is suppressed without an address.
            let noPhone = try await preview(["--campaign", "deposit-thanks", "--customer", "bruno"], db)
            #expect(noPhone.process.terminationStatus == 2)
            #expect(noPhone.stdout.contains("not sent: suppressed (no_address)"), "\(noPhone.stdout)")
            #expect(!noPhone.stdout.contains("POST "))
        }
    }
}
