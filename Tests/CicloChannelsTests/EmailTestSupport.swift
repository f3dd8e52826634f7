import CicloChannels
import Foundation

/// A rendered email as an independent MIME parser sees it: Python's `email` package with its strict modern policy,
/// run as a separate process, so the tests check what other mail software will read, not what our code meant.
struct ParsedEmail: Decodable {
    struct Header: Decodable {
        let name: String
        /// The decoded value (RFC 2047 words decoded, unfolded).
        let value: String
        /// For address headers: each mailbox's decoded display name and addr-spec.
        let addresses: [Mailbox]?
    }
    struct Mailbox: Decodable, Equatable {
        let name: String
        let address: String
    }
    struct Part: Decodable {
        let contentType: String
        let charset: String?
        let transferEncoding: String
        /// The decoded content, with "\n" line ends.
        let content: String
    }

    let contentType: String
    let headers: [Header]
    let parts: [Part]
    /// Every defect the parser noted, in the message, its parts and their headers.
    let defects: [String]
    /// The Date header as the parser understood it, ISO 8601.
    let date: String?
    /// The longest line of the raw message in octets, without its CRLF.
    let maxLineLength: Int
    let maxHeaderLineLength: Int
    let maxEncodedWordLength: Int
    /// CRs or LFs that are not part of a CRLF pair.
    let bareLineEnds: Int
    let nonASCIIBytes: Int

    func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    func headerCount(_ name: String) -> Int { headers.filter { $0.name.lowercased() == name.lowercased() }.count }
    func mailboxes(_ name: String) -> [Mailbox] {
        headers.first { $0.name.lowercased() == name.lowercased() }?.addresses ?? []
    }
    func part(_ contentType: String) -> Part? { parts.first { $0.contentType == contentType } }
}

enum PythonEmail {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private static let script = #"""
        import email, email.policy, json, re, sys
        data = open(sys.argv[1], "rb").read()
        msg = email.message_from_bytes(data, policy=email.policy.default)
        defects, headers, parts = [], [], []
        for part in msg.walk():
            defects += [type(d).__name__ for d in part.defects]
            for name, value in part.items():
                defects += [type(d).__name__ for d in getattr(value, "defects", ())]
            if part.is_multipart():
                continue
            parts.append({"contentType": part.get_content_type(), "charset": part.get_content_charset(),
                          "transferEncoding": part.get("Content-Transfer-Encoding", ""),
                          "content": part.get_content().replace("\r\n", "\n")})
        for name, value in msg.items():
            item = {"name": name, "value": str(value)}
            if hasattr(value, "addresses"):
                item["addresses"] = [{"name": a.display_name, "address": a.addr_spec} for a in value.addresses]
            headers.append(item)
        head = data.split(b"\r\n\r\n", 1)[0]
        rest = data.replace(b"\r\n", b"")
        words = re.findall(rb"=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=", head)
        json.dump({"contentType": msg.get_content_type(), "headers": headers, "parts": parts, "defects": defects,
                   "date": msg["Date"].datetime.isoformat() if msg["Date"] else None,
                   "maxLineLength": max(len(line) for line in data.split(b"\r\n")),
                   "maxHeaderLineLength": max(len(line) for line in head.split(b"\r\n")),
                   "maxEncodedWordLength": max([len(w) for w in words] or [0]),
                   "bareLineEnds": rest.count(b"\n") + rest.count(b"\r"),
                   "nonASCIIBytes": sum(1 for b in data if b > 127)}, open(sys.argv[2], "w"))
        """#

    /// Parses `message` with Python's `email.message_from_bytes(..., policy=email.policy.default)`.
    static func parse(_ message: Data) throws -> ParsedEmail {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ciclo-email-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("message.eml")
        let output = directory.appendingPathComponent("parsed.json")
        let errors = directory.appendingPathComponent("stderr.txt")
        try message.write(to: input)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, input.path, output.path]
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            throw Failure(description: "python3 exited with \(process.terminationStatus): \(stderr)")
        }
        return try JSONDecoder().decode(ParsedEmail.self, from: Data(contentsOf: output))
    }
}

/// A typical campaign email; tests change the one thing they are about.
func sampleMessage(
    subject: String = "Your July picks", html: String = "<p>Hello <b>Maria</b>,</p><p>New arrivals.</p>",
    text: String? = nil, idempotencyKey: String = "campaign-42:customer-1001:2025-07-01",
    unsubscribe: ListUnsubscribe? = ListUnsubscribe(
        url: "https://ciclo.example/u/7f3a?c=42", mailto: "mailto:unsubscribe@ciclo.example?subject=unsubscribe"),
    headers: [EmailHeader] = [EmailHeader("X-Campaign", "summer-2025")]
) throws -> EmailMessage {
    EmailMessage(
        from: try EmailAddress("Ciclo Store <news@ciclo.example>"),
        replyTo: try EmailAddress("care@ciclo.example"),
        to: [try EmailAddress("Maria Silva <maria.silva@example.com>")],
        subject: subject, html: html, text: text, idempotencyKey: idempotencyKey,
        date: Date(timeIntervalSince1970: 1_751_362_200),  // Tue, 01 Jul 2025 09:30:00 UTC
        unsubscribe: unsubscribe, headers: headers)
}

/// Renders with the test deployment's Message-ID domain.
func render(_ message: EmailMessage) throws -> EmailEnvelope {
    try EmailRenderer(configuration: .init(messageIDDomain: "mail.ciclo.example")).render(message)
}

/// Renders and parses in one step.
func renderAndParse(_ message: EmailMessage) throws -> (EmailEnvelope, ParsedEmail) {
    let envelope = try render(message)
    return (envelope, try PythonEmail.parse(envelope.message))
}

extension EmailEnvelope {
    /// The raw message as text (it is 7-bit ASCII).
    var raw: String { String(decoding: message, as: UTF8.self) }
    /// The raw header section, folds included.
    var rawHeaders: String { raw.components(separatedBy: "\r\n\r\n")[0] }
}
