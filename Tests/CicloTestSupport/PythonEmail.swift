import Foundation

/// A rendered email as an independent MIME parser sees it: Python's `email` package with its strict modern policy,
/// run as a separate process, so the tests check what other mail software will read, not what our code meant.
public struct ParsedEmail: Decodable, Sendable {
    /// One header field as the parser read it.
    public struct Header: Decodable, Sendable {
        /// The field name as written.
        public let name: String
        /// The decoded value (RFC 2047 words decoded, unfolded).
        public let value: String
        /// For address headers: each mailbox's decoded display name and addr-spec.
        public let addresses: [Mailbox]?
    }
    /// One mailbox of an address header.
    public struct Mailbox: Decodable, Equatable, Sendable {
        /// The decoded display name, empty when there is none.
        public let name: String
        /// The addr-spec, `local@domain`.
        public let address: String

        /// A mailbox to compare parsed ones with.
        public init(name: String, address: String) {
            self.name = name
            self.address = address
        }
    }
    /// One leaf MIME part.
    public struct Part: Decodable, Sendable {
        /// `type/subtype`, lowercased.
        public let contentType: String
        public let charset: String?
        /// The Content-Transfer-Encoding header as written, or empty.
        public let transferEncoding: String
        /// The decoded content, with "\n" line ends.
        public let content: String
    }

    /// The top-level content type, e.g. `multipart/alternative`.
    public let contentType: String
    /// The top-level header fields, in order.
    public let headers: [Header]
    /// The leaf parts, in order.
    public let parts: [Part]
    /// Every defect the parser noted, in the message, its parts and their headers.
    public let defects: [String]
    /// The Date header as the parser understood it, ISO 8601.
    public let date: String?
    /// The longest line of the raw message in octets, without its CRLF.
    public let maxLineLength: Int
    /// The longest line of the header section.
    public let maxHeaderLineLength: Int
    /// The longest RFC 2047 encoded word in the header section.
    public let maxEncodedWordLength: Int
    /// CRs or LFs that are not part of a CRLF pair.
    public let bareLineEnds: Int
    /// Bytes over 127 anywhere in the raw message.
    public let nonASCIIBytes: Int

    /// The first header field named `name` (case-insensitive), decoded.
    public func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    /// How many header fields are named `name`.
    public func headerCount(_ name: String) -> Int {
        headers.filter { $0.name.lowercased() == name.lowercased() }.count
    }
    /// The mailboxes of the first address header named `name`.
    public func mailboxes(_ name: String) -> [Mailbox] {
        headers.first { $0.name.lowercased() == name.lowercased() }?.addresses ?? []
    }
    /// The first leaf part of `contentType`.
    public func part(_ contentType: String) -> Part? { parts.first { $0.contentType == contentType } }
}

/// Runs Python's `email` parser over a raw message.
public enum PythonEmail {
    /// python3 failed: its exit status and stderr.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
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
    public static func parse(_ message: Data) throws -> ParsedEmail {
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
        // Bounded: a parser that hangs is killed and reported rather than stalling the test run.
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            throw Failure(description: "python3 exited with \(process.terminationStatus): \(stderr)")
        }
        return try JSONDecoder().decode(ParsedEmail.self, from: Data(contentsOf: output))
    }
}
