import CicloChannels
import CicloTestSupport
import Foundation
import Testing

@testable import CicloTransports

/// SMTPTransport against a real SMTP server (aiosmtpd) started by each test.
@Suite("SMTP transport")
struct SMTPTransportTests {
    static func transport(
        port: Int, startTLS: SMTPTransport.Configuration.STARTTLS = .off, username: String? = nil,
        password: String? = nil, timeout: Duration = .seconds(10), caCertificateFile: String? = nil
    ) -> SMTPTransport {
        SMTPTransport(
            configuration: .init(
                url: "smtp://127.0.0.1:\(port)", startTLS: startTLS, username: username, password: password,
                connectTimeout: .seconds(2), timeout: timeout, maximumConnections: 1,
                caCertificateFile: caCertificateFile))
    }

    static func email(to recipients: [String], _ message: String) -> EmailEnvelope {
        EmailEnvelope(
            from: "news@ciclo.test", recipients: recipients, message: Data(message.utf8), messageID: "m@ciclo.test")
    }

    /// A message whose body has lines that SMTP must dot-stuff, a lone "." that would end DATA early, and UTF-8.
    static let first = [
        "From: Ciclo <news@ciclo.test>", "To: ada@example.test, bob@example.test", "Subject: Welcome",
        "Message-ID: <first@ciclo.test>", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "",
        "Hello Ada,", ".a line that starts with a dot", "..two dots", ".", "Grüße", "",
    ].joined(separator: "\r\n")
    /// Without a final CRLF: SMTP needs one before the terminating ".", so the server receives one more.
    static let second = "From: news@ciclo.test\r\nTo: ada@example.test\r\nSubject: Again\r\n\r\nSecond body"

    @Test("two messages arrive byte for byte over one reused connection")
    func deliversOverOneConnection() async throws {
        let server = try await HelperServer.start(smtpServerScript)
        defer { server.stopAndClean() }
        let smtp = Self.transport(port: server.port)

        let one = await smtp.send(Self.email(to: ["ada@example.test", "bob@example.test"], Self.first))
        let two = await smtp.send(Self.email(to: ["ada@example.test"], Self.second))
        #expect(one == .delivered(providerMessageID: "Q1"))
        #expect(two == .delivered(providerMessageID: "Q2"))

        let mail = try server.records(ReceivedMail.self, in: "messages")
        try #require(mail.count == 2)
        #expect(mail[0].mailFrom == "news@ciclo.test")
        #expect(mail[0].recipients == ["ada@example.test", "bob@example.test"])
        #expect(mail[0].data == Data(Self.first.utf8))
        #expect(String(decoding: mail[0].data, as: UTF8.self).contains("\r\n.\r\nGrüße\r\n"))
        #expect(mail[1].recipients == ["ada@example.test"])
        #expect(mail[1].data == Data((Self.second + "\r\n").utf8))
        #expect(mail[0].clientPort == mail[1].clientPort)
        #expect(server.count(in: "connections") == 1)
    }

    @Test("concurrent sends share the pool: every message arrives, over at most two connections")
    func concurrentSends() async throws {
        let server = try await HelperServer.start(smtpServerScript)
        defer { server.stopAndClean() }
        let smtp = SMTPTransport(
            configuration: .init(url: "smtp://127.0.0.1:\(server.port)", startTLS: .off, maximumConnections: 2))
        let results = await withTaskGroup(of: TransportResult.self) { group in
            for index in 0..<12 {
                group.addTask { await smtp.send(Self.email(to: ["user\(index)@example.test"], Self.second)) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { if case .delivered = $0 { true } else { false } })
        let mail = try server.records(ReceivedMail.self, in: "messages")
        #expect(Set(mail.flatMap(\.recipients)) == Set((0..<12).map { "user\($0)@example.test" }))
        #expect((1...2).contains(server.count(in: "connections")))
    }

    @Test("a session the relay closed while idle is replaced, not reported as a failure")
    func reconnectsAfterIdleClose() async throws {
        let server = try await HelperServer.start(smtpServerScript, ["--idle-timeout", "0.5"])
        defer { server.stopAndClean() }
        let smtp = Self.transport(port: server.port)
        #expect(
            await smtp.send(Self.email(to: ["ada@example.test"], Self.second)) == .delivered(providerMessageID: "Q1"))
        try await Task.sleep(for: .seconds(1.5))
        #expect(
            await smtp.send(Self.email(to: ["ada@example.test"], Self.second)) == .delivered(providerMessageID: "Q2"))
        #expect(server.count(in: "connections") == 2)
    }

    @Test("550 for a recipient is permanent, 451 transient; the session still delivers afterwards")
    func classifiesRecipientReplies() async throws {
        let server = try await HelperServer.start(
            smtpServerScript, ["--reject", "gone@example.test", "--defer", "busy@example.test"])
        defer { server.stopAndClean() }
        let smtp = Self.transport(port: server.port)

        let rejected = await smtp.send(Self.email(to: ["gone@example.test"], Self.second))
        guard case .failed(let message, true, nil) = rejected else {
            Issue.record("550 should be permanent: \(rejected)")
            return
        }
        #expect(message.contains("550") && message.contains("no such user"))

        let deferred = await smtp.send(Self.email(to: ["busy@example.test"], Self.second))
        guard case .failed(let message, false, nil) = deferred else {
            Issue.record("451 should be transient: \(deferred)")
            return
        }
        #expect(message.contains("451"))

        // A malformed address is refused by the server (553), which no retry can change.
        let malformed = await smtp.send(Self.email(to: ["not an address"], Self.second))
        guard case .failed(let message, true, nil) = malformed else {
            Issue.record("a malformed address should be permanent: \(malformed)")
            return
        }
        #expect(message.contains("553"))

        // One refused recipient aborts the whole transaction: nobody gets a copy, so a retry never duplicates.
        let mixed = await smtp.send(Self.email(to: ["ada@example.test", "busy@example.test"], Self.second))
        guard case .failed(_, false, nil) = mixed else {
            Issue.record("a deferred recipient should fail the message transiently: \(mixed)")
            return
        }
        #expect(try server.records(ReceivedMail.self, in: "messages").isEmpty)

        #expect(
            await smtp.send(Self.email(to: ["ada@example.test"], Self.second)) == .delivered(providerMessageID: "Q1"))
    }

    @Test("a closed port and a server that never answers are transient, within their timeouts")
    func unreachableRelayIsTransient() async throws {
        let port = try await HelperServer.closedPort(using: smtpServerScript)
        let refused = await Self.transport(port: port).send(Self.email(to: ["ada@example.test"], Self.second))
        guard case .failed(let message, false, nil) = refused else {
            Issue.record("a refused connection should be transient: \(refused)")
            return
        }
        #expect(message.contains("127.0.0.1:\(port)"))

        let silent = try await HelperServer.start(smtpServerScript, ["--silent"])
        defer { silent.stopAndClean() }
        let started = ContinuousClock.now
        let timedOut = await Self.transport(port: silent.port, timeout: .seconds(1))
            .send(Self.email(to: ["ada@example.test"], Self.second))
        #expect(ContinuousClock.now - started < .seconds(5))
        guard case .failed(let message, false, nil) = timedOut else {
            Issue.record("a timeout should be transient: \(timedOut)")
            return
        }
        #expect(message.lowercased().contains("timeout") || message.lowercased().contains("timed out"))
    }

    @Test("AUTH with the right password delivers; a wrong one is permanent and never shows the password")
    func authenticates() async throws {
        let server = try await HelperServer.start(smtpServerScript, ["--auth", "ciclo:s3cret-Pa55"])
        defer { server.stopAndClean() }

        let good = Self.transport(port: server.port, username: "ciclo", password: "s3cret-Pa55")
        #expect(
            await good.send(Self.email(to: ["ada@example.test"], Self.second)) == .delivered(providerMessageID: "Q1"))
        #expect(try server.records(ReceivedMail.self, in: "messages").first?.authenticated == true)

        let wrong = Self.transport(port: server.port, username: "ciclo", password: "wrong-Pa55word")
        let refused = await wrong.send(Self.email(to: ["ada@example.test"], Self.second))
        guard case .failed(let message, true, nil) = refused else {
            Issue.record("a refused password should be permanent: \(refused)")
            return
        }
        #expect(message.contains("535") && message.contains("credentials"))
        #expect(!message.contains("wrong-Pa55word"))
        #expect(!"\(wrong.configuration)".contains("wrong-Pa55word"))

        // Without credentials the server refuses MAIL FROM with 530: permanent as well.
        let anonymous = await Self.transport(port: server.port).send(Self.email(to: ["ada@example.test"], Self.second))
        guard case .failed(let message, true, nil) = anonymous else {
            Issue.record("530 should be permanent: \(anonymous)")
            return
        }
        #expect(message.contains("530"))
    }

    @Test("required STARTTLS encrypts with a trusted certificate, and fails transiently when not offered")
    func startTLS() async throws {
        let server = try await HelperServer.start(smtpServerScript, ["--tls"])
        defer { server.stopAndClean() }
        let ca = server.directory.appendingPathComponent("cert.pem").path
        let smtp = Self.transport(port: server.port, startTLS: .required, caCertificateFile: ca)
        #expect(
            await smtp.send(Self.email(to: ["ada@example.test"], Self.first)) == .delivered(providerMessageID: "Q1"))
        let mail = try server.records(ReceivedMail.self, in: "messages")
        #expect(mail.first?.tls == true)
        #expect(mail.first?.data == Data(Self.first.utf8))

        // The system trust store does not know the self-signed certificate.
        let untrusted = await Self.transport(port: server.port, startTLS: .required)
            .send(Self.email(to: ["ada@example.test"], Self.second))
        guard case .failed(_, false, nil) = untrusted else {
            Issue.record("an untrusted certificate should be transient: \(untrusted)")
            return
        }

        let plain = try await HelperServer.start(smtpServerScript)
        defer { plain.stopAndClean() }
        let required = await Self.transport(port: plain.port, startTLS: .required)
            .send(Self.email(to: ["ada@example.test"], Self.second))
        guard case .failed(_, false, nil) = required else {
            Issue.record("a relay without STARTTLS should fail transiently when TLS is required: \(required)")
            return
        }
        #expect(try plain.records(ReceivedMail.self, in: "messages").isEmpty)
        let opportunistic = await Self.transport(port: plain.port, startTLS: .opportunistic)
            .send(Self.email(to: ["ada@example.test"], Self.second))
        #expect(opportunistic == .delivered(providerMessageID: "Q1"))
    }

    @Test("an address with a line break is refused before any connection, permanently")
    func refusesCommandInjection() async throws {
        let port = try await HelperServer.closedPort(using: smtpServerScript)
        let smtp = Self.transport(port: port)
        let injected = await smtp.send(Self.email(to: ["ada@example.test>\r\nRCPT TO:<eve@example.test"], Self.second))
        guard case .failed(_, true, nil) = injected else {
            Issue.record("a line break in an address should be permanent: \(injected)")
            return
        }
        guard case .failed(_, true, nil) = await smtp.send(Self.email(to: [], Self.second)) else {
            Issue.record("no recipients should be permanent")
            return
        }
    }

    @Test("queue ids are read from the relay's final reply")
    func queueIDs() {
        #expect(SMTPTransport.queueID(fromReply: "250 2.0.0 Ok: queued as 4F2A1C3B") == "4F2A1C3B")
        #expect(SMTPTransport.queueID(fromReply: "250 Ok 0100018f-abc-000000") == "0100018f-abc-000000")
        #expect(SMTPTransport.queueID(fromReply: "250 OK") == nil)
        #expect(SMTPTransport.queueID(fromReply: "451 queued as X") == nil)
    }
}
