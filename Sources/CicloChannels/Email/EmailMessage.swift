import Foundation

/// One campaign email as the renderer takes it: addresses, content, the send's identity and the unsubscribe links.
public struct EmailMessage: Sendable, Equatable {
    public var from: EmailAddress
    public var replyTo: EmailAddress?
    /// The recipients; usually one customer. The envelope's RCPT TO list is the same addresses.
    public var to: [EmailAddress]
    /// Any Unicode; a line break in it is refused. Leading and trailing white space is dropped.
    public var subject: String
    public var html: String
    /// The plain-text alternative; when nil or blank it is derived from `html`.
    public var text: String?
    /// The send's idempotency key: the Message-ID (and the MIME boundary) derive from it, so a retry is the same
    /// message to every mail system that deduplicates on Message-ID.
    public var idempotencyKey: String
    /// The Date header's instant, written in UTC.
    public var date: Date
    public var unsubscribe: ListUnsubscribe?
    /// Further headers (`X-Campaign`, `Feedback-ID`...), in order; they may not replace the ones the renderer writes.
    public var headers: [EmailHeader]

    public init(
        from: EmailAddress, replyTo: EmailAddress? = nil, to: [EmailAddress], subject: String, html: String,
        text: String? = nil, idempotencyKey: String, date: Date, unsubscribe: ListUnsubscribe? = nil,
        headers: [EmailHeader] = []
    ) {
        self.from = from
        self.replyTo = replyTo
        self.to = to
        self.subject = subject
        self.html = html
        self.text = text
        self.idempotencyKey = idempotencyKey
        self.date = date
        self.unsubscribe = unsubscribe
        self.headers = headers
    }
}

/// How a recipient leaves the list: `List-Unsubscribe` (RFC 2369) and, when there is an https URL, one-click
/// unsubscription by POST (RFC 8058), which Gmail and Yahoo require of bulk senders.
public struct ListUnsubscribe: Sendable, Equatable {
    /// An https URL that unsubscribes on a POST with body `List-Unsubscribe=One-Click`, without any other step.
    public var url: String?
    /// A `mailto:` URI, or a bare address that becomes one.
    public var mailto: String?

    public init(url: String? = nil, mailto: String? = nil) {
        self.url = url
        self.mailto = mailto
    }
}

/// An extra header field. Its value is unstructured text, encoded per RFC 2047 when it is not ASCII.
public struct EmailHeader: Sendable, Equatable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

extension EmailMessage {
    /// Headers that the renderer writes: an extra header with one of these names would duplicate or contradict it.
    static let reservedHeaders: Set<String> = [
        "from", "sender", "reply-to", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
        "content-type", "content-transfer-encoding", "list-unsubscribe", "list-unsubscribe-post", "return-path",
    ]

    /// Everything about the inputs that can be wrong, checked before a byte is written.
    func validate() throws(EmailError) {
        guard !to.isEmpty else {
            throw EmailError(.noRecipients, field: "to", reason: "there are no recipients", value: "")
        }
        try EmailAddress.rejectControls(idempotencyKey, field: "idempotency key")
        guard !idempotencyKey.isEmpty else {
            throw EmailError(.emptyIdempotencyKey, field: "idempotency key", reason: "it is empty", value: "")
        }
        try EmailAddress.rejectControls(subject, field: "subject", allowTab: true)
        guard !Blank.isBlank(subject, .whitespaces) else {
            throw EmailError(.emptySubject, field: "subject", reason: "it is empty", value: subject)
        }
        guard !Blank.isBlank(html, .whitespacesAndNewlines) else {
            throw EmailError(.emptyBody, field: "HTML body", reason: "it is empty", value: html)
        }
        try Self.validate(headers)
    }

    /// The extra headers' checks, which depend only on the headers (so a compiled email does them once).
    static func validate(_ headers: [EmailHeader]) throws(EmailError) {
        for header in headers {
            // Worked out only for an error: `debugDescription` cost more than all the checks.
            var field: String { "header \(header.name.debugDescription)" }
            if UTF8Text.hasControl(header.name, allowTab: false) {
                try EmailAddress.rejectLineBreaks(header.name, field: field)
            }
            let isFieldName = header.name.utf8.allSatisfy { (0x21...0x7E).contains($0) && $0 != UInt8(ascii: ":") }
            guard isFieldName, (1...76).contains(header.name.utf8.count) else {
                throw EmailError(
                    .invalidHeaderName, field: field,
                    reason: "a name is 1 to 76 printable ASCII characters without a colon",
                    value: header.name)
            }
            guard !Self.reservedHeaders.contains(header.name.lowercased()) else {
                throw EmailError(
                    .reservedHeader, field: field, reason: "the renderer writes this header itself",
                    value: header.name)
            }
            if UTF8Text.hasControl(header.value, allowTab: true) {
                try EmailAddress.rejectControls(header.value, field: field, allowTab: true)
            }
        }
    }
}

extension ListUnsubscribe {
    /// The header's URIs, checked: `<https://...>` then `<mailto:...>`.
    func uris() throws(EmailError) -> [String] {
        var uris: [String] = []
        if let url {
            try Self.check(url, field: "unsubscribe URL")
            // RFC 2369 takes any absolute URL; plain http is allowed for local set-ups, and only an https URL
            // gets RFC 8058's one-click header (see EmailRenderer).
            // `check` let only printable ASCII through, so byte comparisons answer for characters.
            let isHTTP = UTF8Text.hasASCIIPrefixIgnoringCase(url, "https://")
                || UTF8Text.hasASCIIPrefixIgnoringCase(url, "http://")
            guard isHTTP, Self.hasHost(url) else {
                throw EmailError(
                    .invalidUnsubscribe, field: "unsubscribe URL",
                    reason: "it must be an absolute http or https URL", value: url)
            }
            uris.append(url)
        }
        if let mailto {
            try Self.check(mailto, field: "unsubscribe mailto")
            let isURI = UTF8Text.hasASCIIPrefixIgnoringCase(mailto, "mailto:")
            let rest = isURI ? String(mailto.dropFirst(7)) : mailto
            // Printable ASCII (checked above): the "?" byte is the "?" character.
            let address = String(rest[..<(rest.utf8.firstIndex(of: UInt8(ascii: "?")) ?? rest.endIndex)])
            do {
                let parsed = try EmailAddress(address: address)
                uris.append("mailto:" + parsed.address + rest.dropFirst(address.count))
            } catch {
                throw error.with(field: "unsubscribe mailto")
            }
        }
        return uris
    }

    /// Whether the URL parses with a host. A plain one (`https://host.example/path`) certainly does; URLComponents,
    /// which costs microseconds and consults IDNA, answers for the rest.
    private static func hasHost(_ url: String) -> Bool {
        if HostName.isPlainHTTPURL(url) { return true }
        guard let host = URLComponents(string: url)?.host else { return false }
        return !host.isEmpty
    }

    /// A URI in angle brackets must be printable ASCII without spaces or brackets (RFC 3986 percent-encodes the
    /// rest), and short enough for one header line.
    /// Whether `check` lets `uri` through: printable ASCII without brackets, at most 900 bytes.
    static func isBracketable(_ uri: String) -> Bool {
        var uri = uri
        return uri.utf8.count <= HeaderWriter.longestUncuttableWord
            && uri.withUTF8 { bytes in
                bytes.allSatisfy { $0 &- 0x21 <= 0x7E - 0x21 && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") }
            }
    }

    private static func check(_ uri: String, field: String) throws(EmailError) {
        // One pass when the URI is fine; a control character gets its own, more precise error.
        var uri = uri
        let isPrintable = uri.withUTF8 { bytes in
            bytes.allSatisfy { $0 &- 0x21 <= 0x7E - 0x21 && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") }
        }
        guard isPrintable else {
            try EmailAddress.rejectControls(uri, field: field)
            throw EmailError(
                .invalidUnsubscribe, field: field,
                reason: "it has a space, a bracket or a non-ASCII character; percent-encode them",
                value: uri)
        }
        guard uri.utf8.count <= HeaderWriter.longestUncuttableWord else {
            throw EmailError(.valueTooLong, field: field, reason: "it is longer than 900 characters", value: uri)
        }
    }
}
