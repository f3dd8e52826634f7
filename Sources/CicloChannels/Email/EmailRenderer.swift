import Crypto
import Foundation

/// Renders an `EmailMessage` into a complete MIME message (RFC 5322, RFC 2045-2047): `multipart/alternative` with a
/// text part then an HTML part, 7-bit throughout, CRLF line ends, no line over 998 octets, header lines folded at
/// 78 characters wherever the content allows.
///
/// Rendering is deterministic: the same message renders to the same bytes, so a retried send is byte-for-byte the
/// message that may already have been accepted, with the same Message-ID.
public struct EmailRenderer: Sendable {
    /// Settings shared by every message a deployment sends.
    public struct Configuration: Sendable, Equatable {
        /// The domain after the `@` of Message-IDs; nil uses the From address's domain.
        public var messageIDDomain: String?

        public init(messageIDDomain: String? = nil) {
            self.messageIDDomain = messageIDDomain
        }
    }

    public var configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The complete message and its SMTP envelope, or the first thing wrong with the inputs.
    public func render(_ message: EmailMessage) throws(EmailError) -> EmailEnvelope {
        try message.validate()
        let unsubscribeURIs = try message.unsubscribe?.uris() ?? []
        let domain: String
        do {
            domain = try IDNA.toASCII(configuration.messageIDDomain ?? message.from.domain)
        } catch {
            throw EmailError(
                .invalidDomain, field: "Message-ID domain", reason: "the domain \(error.reason)",
                value: configuration.messageIDDomain ?? "")
        }
        let messageID = Self.messageID(idempotencyKey: message.idempotencyKey, domain: domain)
        let boundary = "=_ciclo_" + Self.hexDigest("boundary\u{0}" + message.idempotencyKey).prefix(32)

        var headers = ""
        func add(_ name: String, _ build: (inout HeaderWriter) -> Void) {
            var writer = HeaderWriter(name: name)
            build(&writer)
            headers += writer.rendered
        }
        add("Date") { $0.word(Self.rfc5322Date(message.date)) }
        add("From") { $0.addresses([message.from]) }
        if let replyTo = message.replyTo { add("Reply-To") { $0.addresses([replyTo]) } }
        add("To") { $0.addresses(message.to) }
        // Leading and trailing white space is dropped: parsers drop it anyway, and a trailing space ends a line.
        add("Subject") { $0.unstructured(message.subject.trimmingCharacters(in: .whitespaces)) }
        add("Message-ID") { $0.word("<\(messageID)>") }
        add("MIME-Version") { $0.word("1.0") }
        if !unsubscribeURIs.isEmpty {
            add("List-Unsubscribe") { writer in
                for (index, uri) in unsubscribeURIs.enumerated() {
                    writer.word("<\(uri)>" + (index < unsubscribeURIs.count - 1 ? "," : ""))
                }
            }
        }
        if message.unsubscribe?.url?.lowercased().hasPrefix("https://") == true {
            // RFC 8058: only with an https URI; the mail provider then POSTs this body to it.
            add("List-Unsubscribe-Post") { $0.word("List-Unsubscribe=One-Click") }
        }
        for header in message.headers {
            add(header.name) { $0.unstructured(header.value.trimmingCharacters(in: .whitespaces)) }
        }
        add("Content-Type") {
            $0.word("multipart/alternative;")
            $0.word("boundary=\"\(boundary)\"")
        }

        let text =
            message.text.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
            ?? HTMLText.plainText(fromHTML: message.html)
        var body = headers + "\r\n"
        body += Self.part(text, subtype: "plain", boundary: boundary)
        body += Self.part(message.html, subtype: "html", boundary: boundary)
        body += "--\(boundary)--\r\n"

        return EmailEnvelope(
            from: message.from.address, recipients: message.to.map(\.address), message: Data(body.utf8),
            messageID: messageID)
    }

    /// The Message-ID for a send, without angle brackets: the first 128 bits of the SHA-256 of its idempotency
    /// key, in hex, at `domain`. A hash rather than the key itself, so that keys of any form make a valid id and
    /// reveal nothing; 128 bits keep collisions out of reach and the header within 78 characters.
    public static func messageID(idempotencyKey: String, domain: String) -> String {
        hexDigest(idempotencyKey).prefix(32) + "@" + domain
    }

    /// One body part. The boundary starts with "=_", which neither quoted-printable nor base64 can produce, so it
    /// cannot occur inside an encoded part.
    private static func part(_ content: String, subtype: String, boundary: String) -> String {
        let bytes = BodyEncoding.canonicalBytes(content)
        let encoding = BodyEncoding.choose(for: bytes)
        var part = "--\(boundary)\r\n"
        part += "Content-Type: text/\(subtype); charset=utf-8\r\n"
        part += "Content-Transfer-Encoding: \(encoding.rawValue)\r\n\r\n"
        for line in encoding.encode(bytes) { part += line + "\r\n" }
        return part
    }

    private static func hexDigest(_ string: String) -> String {
        SHA256.hash(data: Data(string.utf8)).map { EncodedWord.hex($0) }.joined().lowercased()
    }

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// RFC 5322 3.3 date-time in UTC, e.g. `Tue, 01 Jul 2025 09:30:00 +0000`; English names whatever the locale.
    static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        return "\(weekdays[(parts.weekday ?? 1) - 1]), \(two(parts.day)) \(months[(parts.month ?? 1) - 1]) "
            + "\(parts.year ?? 1970) \(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) +0000"
    }
}
