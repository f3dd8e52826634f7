import CicloChannels
import CicloTestSupport
import Foundation
import Postgres
import Testing

/// `ciclo unsubscribe-mail`, as an MTA's pipe delivery runs it, on messages that Python's `email` package composes
/// from a send's real mailto link, the way a mail client does.
@Suite("Unsubscribe by email")
struct MailtoUnsubscribeTests {
    static let secret = "mailto-test-secret-0123456789"
    static let mailbox = "unsubscribe@shop.example"

    /// Composes a message to the mailto's address with its subject. `prefix` goes before the subject (a client's
    /// "Re: "; non-ASCII makes Python encode and fold the whole field); `linesep` is "\r\n" or "\n".
    static let compose = #"""
        import sys, urllib.parse
        from email.message import EmailMessage
        from email import policy
        url, prefix, linesep, out = sys.argv[1:5]
        parsed = urllib.parse.urlparse(url)
        subject = urllib.parse.parse_qs(parsed.query)["subject"][0]
        msg = EmailMessage()
        msg["From"] = "Ana <ana@example.com>"
        msg["To"] = parsed.path
        msg["Subject"] = prefix + subject
        msg.set_content("Please stop.")
        open(out, "wb").write(msg.as_bytes(policy=policy.default.clone(linesep=linesep)))
        """#

    static func message(mailto: String, prefix: String = "", linesep: String = "\r\n") throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mailto-\(UUID().uuidString).eml")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", compose, mailto, prefix, linesep, file.path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python3 could not compose the message")
        return file
    }

    static func write(_ text: String) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mailto-\(UUID().uuidString).eml")
        try Data(text.utf8).write(to: file)
        return file
    }

    /// Runs `ciclo unsubscribe-mail` on a file (or on standard input from it) and returns its status and output.
    static func run(_ file: URL?, stdin: URL? = nil, url: String?) async throws -> (status: Int32?, out: String, err: String) {
        let run = try CicloRun(
            url: url, arguments: ["unsubscribe-mail"] + (file.map { [$0.path] } ?? []),
            extraEnvironment: ["CICLO_TOKEN_SECRET": secret])
        if let stdin { run.process.standardInput = try FileHandle(forReadingFrom: stdin) }
        try run.process.run()
        let status = await run.wait(timeout: .seconds(60))
        run.stop()
        return (status, run.stdout, run.stderr)
    }

    static func links(customer: Int64, key: String, secret: String = secret) -> UnsubscribeLinks {
        UnsubscribeLinks(
            baseURL: "https://ciclo.example", mailbox: mailbox, key: KeyedHMAC(secret: secret), idempotencyKey: key,
            customer: customer, channel: "email")
    }

    static func counts(_ conn: PostgresConnection) async throws -> [Int] {
        let row = try await conn.query("""
            SELECT (SELECT count(*) FROM suppressions)::int8,
                   (SELECT count(*) FROM responses WHERE kind = 'unsubscribe')::int8
            """).single()
        return [try row.decode(Int.self, at: 0), try row.decode(Int.self, at: 1)]
    }

    @Test("a client's mailto request suppresses the send's customer on its channel, once, whatever the encoding")
    func requestsAreApplied() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let customers = try await Seed.customers(3, on: conn)
        let mailtos = try customers.map { customer in
            try #require(Self.links(customer: customer, key: "spring:\(customer):1").mailto)
        }
        #expect(mailtos[0].hasPrefix("mailto:\(Self.mailbox)?subject=unsubscribe%20"))
        // As sent; with a non-ASCII reply prefix, which Python writes as folded encoded-words; with the bare LF line
        // ends of a local MTA's pipe, read from standard input.
        let plain = try await Self.run(try Self.message(mailto: mailtos[0]), url: db.url)
        #expect(plain.status == 0, "\(plain.err)")
        #expect(plain.out.contains("customer \(customers[0]) unsubscribed from email"))
        let encoded = try Self.message(mailto: mailtos[1], prefix: "Re: Ação necessária — ")
        let encodedText = try String(contentsOf: encoded, encoding: .utf8)
        #expect(encodedText.contains("=?utf-8?"), "the subject went out as encoded-words: \(encodedText.prefix(400))")
        #expect((try await Self.run(encoded, url: db.url)).status == 0)
        let piped = try await Self.run(nil, stdin: try Self.message(mailto: mailtos[2], linesep: "\n"), url: db.url)
        #expect(piped.status == 0, "\(piped.err)")

        let suppressed = try await conn.query(
            "SELECT customer_id, channel, reason FROM suppressions ORDER BY customer_id")
        #expect(try suppressed.map { try $0.decode(Int64.self, at: 0) } == customers)
        #expect(try suppressed.allSatisfy { try $0.decode(String.self, at: 1) == "email" && $0.decode(String.self, at: 2) == "unsubscribed" })
        let methods = try await conn.query(
            "SELECT data->>'method' FROM responses WHERE kind = 'unsubscribe'").map { try $0.decode(String.self, at: 0) }
        #expect(methods == ["mailto", "mailto", "mailto"])

        // The same request again (a client retrying, or the customer clicking twice) changes nothing.
        let again = try await Self.run(try Self.message(mailto: mailtos[0]), url: db.url)
        #expect(again.status == 0 && again.out.contains("recorded before"))
        #expect(try await Self.counts(conn) == [3, 3])
        await conn.close()
        await db.drop()
    }

    @Test("what is not a valid request is refused by name with 65, an unreadable file with 66, no database with 75; nothing changes")
    func badRequests() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let customer = try await Seed.customers(1, on: conn)[0]
        let links = Self.links(customer: customer, key: "spring:\(customer):1")
        let forged = try #require(Self.links(customer: customer, key: "x", secret: "another-secret-0123456789").mailto)
        let bad: [(URL, String)] = [
            (try Self.write(""), "no Subject header"),
            (try Self.write("From: a@example.com\r\nTo: \(Self.mailbox)\r\n\r\nunsubscribe please\r\n"), "no Subject header"),
            (try Self.write("Subject: please stop\r\n\r\n"), "is not \"unsubscribe <token>\""),
            (try Self.write("Subject: unsubscribe\r\n\r\n"), "is not \"unsubscribe <token>\""),
            (try Self.message(mailto: forged), "not one this deployment signed"),
            // The open pixel's token is signed by the same secret, for another purpose.
            (try Self.write("Subject: unsubscribe \(links.openToken)\r\n\r\n"), "not one this deployment signed"),
            (try Self.write("Subject: unsubscribe !!!\r\n\r\n"), "not one this deployment signed"),
            (try Self.write("Subject: x\r\n\r\n" + String(repeating: "a", count: 1 << 20)), "an unsubscribe request is a short message"),
        ]
        for (file, reason) in bad {
            let result = try await Self.run(file, url: db.url)
            #expect(result.status == 65, "\(reason): \(result.err)")
            #expect(result.err.contains("Not an unsubscribe request") && result.err.contains(reason), "\(result.err)")
        }
        let missing = try await Self.run(URL(fileURLWithPath: "/nonexistent/message.eml"), url: db.url)
        #expect(missing.status == 66 && missing.err.contains("cannot be read"), "\(missing.err)")
        // A valid request while the database is away: 75, so the MTA keeps the message and tries again.
        let valid = try Self.message(mailto: try #require(links.mailto))
        let away = try await Self.run(valid, url: "postgresql://postgres@127.0.0.1:1/ciclo?connect_timeout=2")
        #expect(away.status == 75, "\(away.err)")
        #expect(try await Self.counts(conn) == [0, 0])
        #expect(try await Self.run(valid, url: db.url).status == 0, "the same request goes through once the database is back")
        #expect(try await Self.counts(conn) == [1, 1])
        await conn.close()
        await db.drop()
    }
}
