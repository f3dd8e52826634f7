import CicloChannels
import Foundation
import Testing

@testable import CicloTransports

/// FileTransport writing to a fresh temporary directory.
@Suite("File transport")
struct FileTransportTests {
    static func withDirectory(_ body: (URL) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ciclo-outbox-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await body(directory)
    }

    static func files(in folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    @Test("an email is written as its raw message; the same key again overwrites it")
    func writesEmail() async throws {
        try await Self.withDirectory { directory in
            let outbox = FileTransport(directory: directory, channel: .email)
            let message = Data("From: news@ciclo.test\r\nSubject: Hi\r\n\r\nHello\r\n".utf8)
            let email = EmailEnvelope(
                from: "news@ciclo.test", recipients: ["ada@example.test"], message: message,
                messageID: "ck_01HX.42@ciclo.test")
            #expect(await outbox.send(email) == .delivered(providerMessageID: "email/ck_01HX.42@ciclo.test.eml"))
            let file = directory.appendingPathComponent("email/ck_01HX.42@ciclo.test.eml")
            let written = try Data(contentsOf: file)
            #expect(written == message)

            var again = email
            again.message = Data("Subject: Second\r\n\r\nHello again\r\n".utf8)
            #expect(await outbox.send(again) == .delivered(providerMessageID: "email/ck_01HX.42@ciclo.test.eml"))
            let rewritten = try Data(contentsOf: file)
            #expect(rewritten == again.message)
            // One file, and no temporary file left behind.
            #expect(Self.files(in: directory.appendingPathComponent("email")) == ["ck_01HX.42@ciclo.test.eml"])
        }
    }

    @Test("an HTTP request is written as JSON with method, URL, headers and the body as it is; secrets masked")
    func writesHTTP() async throws {
        try await Self.withDirectory { directory in
            let outbox = FileTransport(directory: directory, channel: .sms)
            let body = #"{"to":"+447700900123","text":"Hi Ada","amount":12.50}"#
            let request = HTTPMessage(
                url: "https://user:hunter2@sms.example/v1/messages",
                headers: [HTTPHeader("Authorization", "Bearer sk_live_123"), HTTPHeader("Ciclo-Signature", "v1=abc")],
                body: Data(body.utf8), idempotencyKey: "send-7")
            #expect(await outbox.send(request) == .delivered(providerMessageID: "sms/send-7.json"))
            let data = try Data(contentsOf: directory.appendingPathComponent("sms/send-7.json"))
            let text = String(decoding: data, as: UTF8.self)
            // The body is embedded byte for byte (12.50 stays 12.50), and the document is valid JSON.
            #expect(text.contains(#""body": {"to":"+447700900123","text":"Hi Ada","amount":12.50}"#))
            let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(document["method"] as? String == "POST")
            #expect(document["url"] as? String == "https://user:***@sms.example/v1/messages")
            #expect(document["idempotencyKey"] as? String == "send-7")
            let headers = try #require(document["headers"] as? [[String]])
            #expect(headers == [["Authorization", "***"], ["Ciclo-Signature", "v1=abc"]])
            #expect(!text.contains("sk_live_123") && !text.contains("hunter2"))

            let plain = HTTPMessage(
                url: "https://hooks.example/x", body: Data("a=1&b=2".utf8), idempotencyKey: "send-8")
            #expect(await outbox.send(plain) == .delivered(providerMessageID: "sms/send-8.json"))
            let second = try Data(contentsOf: directory.appendingPathComponent("sms/send-8.json"))
            let parsed = try #require(try JSONSerialization.jsonObject(with: second) as? [String: Any])
            #expect(parsed["bodyText"] as? String == "a=1&b=2")
        }
    }

    @Test("keys become safe, distinct file names")
    func fileNames() {
        #expect(FileTransport.fileName(for: "a/b c") == "a%2Fb%20c")
        #expect(FileTransport.fileName(for: "a_b c") != FileTransport.fileName(for: "a/b c"))
        #expect(FileTransport.fileName(for: "../etc/passwd") == "%2E.%2Fetc%2Fpasswd")
        #expect(FileTransport.fileName(for: "é") == "%C3%A9")
        let long = String(repeating: "k", count: 300)
        #expect(FileTransport.fileName(for: long).utf8.count < 220)
        #expect(FileTransport.fileName(for: long) != FileTransport.fileName(for: long + "x"))
    }

    @Test("a directory that cannot be created gives a clear permanent failure")
    func badDirectory() async throws {
        try await Self.withDirectory { directory in
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let blocker = directory.appendingPathComponent("not-a-directory")
            try Data("x".utf8).write(to: blocker)
            let outbox = FileTransport(directory: blocker, channel: .webhook)
            let result = await outbox.send(
                HTTPMessage(url: "https://hooks.example/x", body: Data(), idempotencyKey: "k"))
            guard case .failed(let message, true, nil) = result else {
                Issue.record("writing under a regular file should fail permanently: \(result)")
                return
            }
            #expect(message == "Could not write webhook/k.json under \(blocker.path): Not a directory.")
            let empty = await FileTransport(directory: directory, channel: .email)
                .send(EmailEnvelope(from: "a@b.c", recipients: ["d@e.f"], message: Data(), messageID: ""))
            guard case .failed(_, true, nil) = empty else {
                Issue.record("an empty key should fail permanently: \(empty)")
                return
            }
        }
    }
}
