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
        let (localPart, boundary) = Self.identifiers(message.idempotencyKey)
        let messageID = localPart + "@" + domain

        // The whole message is written as bytes into one buffer and copied once into `Data`.
        var out: [UInt8] = []
        out.reserveCapacity(1024 + message.html.utf8.count * 2 + (message.text?.utf8.count ?? 0))
        var writer = HeaderWriter(name: "")
        func add(_ name: String, _ build: (inout HeaderWriter) -> Void) {
            writer.restart(name: name)
            build(&writer)
            writer.write(to: &out)
        }
        add("Date") { $0.word(Self.rfc5322Date(message.date)) }
        add("From") { $0.addresses([message.from]) }
        if let replyTo = message.replyTo { add("Reply-To") { $0.addresses([replyTo]) } }
        add("To") { $0.addresses(message.to) }
        // Leading and trailing white space is dropped: parsers drop it anyway, and a trailing space ends a line.
        add("Subject") { $0.unstructured(Blank.trimmed(message.subject, .whitespaces)) }
        add("Message-ID") { $0.word("<\(messageID)>") }
        add("MIME-Version") { $0.word("1.0") }
        if !unsubscribeURIs.isEmpty {
            add("List-Unsubscribe") { writer in
                for (index, uri) in unsubscribeURIs.enumerated() {
                    writer.word("<\(uri)>" + (index < unsubscribeURIs.count - 1 ? "," : ""))
                }
            }
        }
        // The URL is printable ASCII by now (`uris` checked it).
        if let url = message.unsubscribe?.url, UTF8Text.hasASCIIPrefixIgnoringCase(url, "https://") {
            // RFC 8058: only with an https URI; the mail provider then POSTs this body to it.
            add("List-Unsubscribe-Post") { $0.word("List-Unsubscribe=One-Click") }
        }
        for header in message.headers {
            add(header.name) { $0.unstructured(Blank.trimmed(header.value, .whitespaces)) }
        }
        add("Content-Type") {
            $0.word("multipart/alternative;")
            $0.word("boundary=\"\(boundary)\"")
        }

        out.append(contentsOf: Self.crlf)
        if let text = message.text, !Blank.isBlank(text, .whitespacesAndNewlines) {
            Self.part(text, subtype: "plain", boundary: boundary, into: &out)
        } else {
            // The derived text goes to the encoder as bytes, never made into a string.
            HTMLText.plainTextBytes(fromHTML: message.html).withUnsafeBufferPointer {
                Self.part($0, subtype: "plain", boundary: boundary, into: &out)
            }
        }
        Self.part(message.html, subtype: "html", boundary: boundary, into: &out)
        UTF8Text.append("--\(boundary)--\r\n", to: &out)

        return EmailEnvelope(
            from: message.from.address, recipients: message.to.map(\.address), message: Data(out),
            messageID: messageID)
    }

    /// The Message-ID for a send, without angle brackets: the first 128 bits of the SHA-256 of its idempotency
    /// key, in hex, at `domain`. A hash rather than the key itself, so that keys of any form make a valid id and
    /// reveal nothing; 128 bits keep collisions out of reach and the header within 78 characters.
    public static func messageID(idempotencyKey: String, domain: String) -> String {
        identifiers(idempotencyKey).localPart + "@" + domain
    }

    /// The Message-ID's local part and the MIME boundary of a send, from one SHA-256 of its idempotency key: the
    /// first 128 bits in hex, and `=_ciclo_` and the other 128 bits in hex. Both are fixed by the key, so a retried
    /// send is the same message. The boundary starts with "=_", which neither quoted-printable nor base64 can
    /// produce, so it cannot occur inside an encoded part; the hash only keeps it from looking the same in every
    /// message. One hash rather than one per identifier: each cost about 5,000 instructions.
    static func identifiers(_ idempotencyKey: String) -> (localPart: String, boundary: String) {
        var key = idempotencyKey
        var hasher = SHA256()
        key.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        return hasher.finalize().withUnsafeBytes { digest in
            (UTF8Text.lowerHex(digest.prefix(16)), UTF8Text.lowerHex(digest.suffix(16), after: "=_ciclo_"))
        }
    }

    static let crlf: [UInt8] = [0x0D, 0x0A]
    private static let dashes: [UInt8] = Array("--".utf8)
    private static let contentTypeText: [UInt8] = Array("\r\nContent-Type: text/".utf8)
    private static let charsetAndEncoding: [UInt8] = Array("; charset=utf-8\r\nContent-Transfer-Encoding: ".utf8)
    private static let headerEnd: [UInt8] = Array("\r\n\r\n".utf8)

    /// One body part. The boundary starts with "=_", which neither quoted-printable nor base64 can produce, so it
    /// cannot occur inside an encoded part.
    static func part(_ content: String, subtype: String, boundary: String, into out: inout [UInt8]) {
        var content = content
        content.withUTF8 { part($0, subtype: subtype, boundary: boundary, into: &out) }
    }

    static func part(
        _ content: UnsafeBufferPointer<UInt8>, subtype: String, boundary: String, likelyBase64: Bool = false,
        into out: inout [UInt8]
    ) {
        BodyEncoding.write(content, into: &out, likelyBase64: likelyBase64) { encoding, out in
            partHeader(encoding, subtype: subtype, boundary: boundary, into: &out)
        }
    }

    /// The boundary line and a part's headers.
    static func partHeader(_ encoding: BodyEncoding, subtype: String, boundary: String, into out: inout [UInt8]) {
        // Appended piece by piece: an interpolated string per part cost more than encoding a short body.
        out.append(contentsOf: Self.dashes)
        UTF8Text.append(boundary, to: &out)
        out.append(contentsOf: Self.contentTypeText)
        UTF8Text.append(subtype, to: &out)
        out.append(contentsOf: Self.charsetAndEncoding)
        UTF8Text.append(encoding.rawValue, to: &out)
        out.append(contentsOf: Self.headerEnd)
    }

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// RFC 5322 3.3 date-time in UTC, e.g. `Tue, 01 Jul 2025 09:30:00 +0000`; English names whatever the locale.
    ///
    /// Dates from 1970 to 9999 are worked out with integer civil-date arithmetic (H. Hinnant's days-to-civil), as
    /// Foundation's Calendar took microseconds per call; other dates ask Calendar, which also knows that the
    /// Gregorian calendar starts in 1582.
    static func rfc5322Date(_ date: Date) -> String {
        var bytes: [UInt8] = []
        appendDate(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `rfc5322Date(date)`'s bytes, appended to `out` without making a string.
    static func appendDate(_ date: Date, to out: inout [UInt8]) {
        let seconds = date.timeIntervalSinceReferenceDate.rounded(.down)
        guard seconds >= -978_307_200, seconds < 252_423_993_600 else {
            UTF8Text.append(calendarDate(date), to: &out)
            return
        }
        let unix = Int(seconds) + 978_307_200
        let days = unix / 86_400
        let time = unix % 86_400
        let shifted = days + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        // Years 1970 to 9999: four digits, as "\(year)" writes them.
        func digits(_ value: Int) {
            out.append(UInt8(ascii: "0") + UInt8(value / 10))
            out.append(UInt8(ascii: "0") + UInt8(value % 10))
        }
        out.append(contentsOf: weekdayBytes[(days + 4) % 7])
        digits(day)
        out.append(contentsOf: monthBytes[month - 1])
        digits(year / 100)
        digits(year % 100)
        out.append(UInt8(ascii: " "))
        digits(time / 3600)
        out.append(UInt8(ascii: ":"))
        digits(time / 60 % 60)
        out.append(UInt8(ascii: ":"))
        digits(time % 60)
        out.append(contentsOf: zone)
    }

    /// "Sun, " ... and " Jan " ...: the pieces around the day of the month.
    private static let weekdayBytes = weekdays.map { Array("\($0), ".utf8) }
    private static let monthBytes = months.map { Array(" \($0) ".utf8) }
    private static let zone = Array(" +0000".utf8)

    private static func calendarDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        return format(
            weekday: parts.weekday ?? 1, day: parts.day ?? 0, month: parts.month ?? 1, year: parts.year ?? 1970,
            hour: parts.hour ?? 0, minute: parts.minute ?? 0, second: parts.second ?? 0)
    }

    /// `weekday` counts from 1 for Sunday, as Calendar does.
    private static func format(
        weekday: Int, day: Int, month: Int, year: Int, hour: Int, minute: Int, second: Int
    ) -> String {
        // What String(format: "%02d") gives for 0 to 99, without its cost.
        func two(_ value: Int) -> String { (0..<10).contains(value) ? "0\(value)" : "\(value)" }
        return "\(weekdays[weekday - 1]), \(two(day)) \(months[month - 1]) \(year) "
            + "\(two(hour)):\(two(minute)):\(two(second)) +0000"
    }
}
