import Foundation

/// A campaign's rules for its SMS sends.
public struct SMSPolicy: Sendable, Hashable, Codable {
    /// The most segments one send may take; a longer text is suppressed rather than billed as many messages.
    public var maxSegments: Int
    /// Whether characters GSM-7 lacks may be replaced by their nearest GSM-7 spelling (ã → a, “ → ") to avoid
    /// UCS-2, which more than halves the characters per segment.
    public var allowsTransliteration: Bool

    public init(maxSegments: Int = 3, allowsTransliteration: Bool = false) {
        self.maxSegments = maxSegments
        self.allowsTransliteration = allowsTransliteration
    }
}

/// A rendered SMS ready to hand to a provider.
public struct SMSMessage: Sendable, Hashable {
    public let to: PhoneNumber
    /// The sender: an E.164 number, a short code or an alphanumeric sender ID, as the provider account allows.
    public let from: String
    public let text: String
    public let encoding: SMSEncoding
    public let segments: Int

    /// Builds the message for `text` under the campaign's policy, or says why it must not be sent.
    public static func compose(text: String, to: PhoneNumber, from: String, policy: SMSPolicy) -> SMSComposition {
        guard !Blank.isBlank(text, .whitespacesAndNewlines) else { return .empty }
        let prepared = SMSText(text, transliterate: policy.allowsTransliteration)
        guard prepared.segments <= policy.maxSegments else {
            return .tooLong(segments: prepared.segments, max: policy.maxSegments)
        }
        return .ready(
            SMSMessage(
                to: to, from: from, text: prepared.text, encoding: prepared.encoding, segments: prepared.segments))
    }

    private init(to: PhoneNumber, from: String, text: String, encoding: SMSEncoding, segments: Int) {
        self.to = to
        self.from = from
        self.text = text
        self.encoding = encoding
        self.segments = segments
    }
}

/// The outcome of composing an SMS: a message to send, or the reason it is suppressed.
public enum SMSComposition: Sendable, Hashable {
    case ready(SMSMessage)
    /// The text needs more segments than the campaign allows.
    case tooLong(segments: Int, max: Int)
    /// The rendered text is empty or only whitespace; an empty SMS is never sent.
    case empty

    /// The reason recorded for a suppressed send, or nil when the message is ready.
    public var suppressionReason: String? {
        switch self {
        case .ready: nil
        case .tooLong: "sms_too_long"
        case .empty: "sms_empty"
        }
    }

    /// One sentence for an operator saying why the send was suppressed, or nil when the message is ready.
    public var explanation: String? {
        switch self {
        case .ready: nil
        case .tooLong(let segments, let max):
            "The SMS needs \(segments) segments but the campaign allows at most \(max); shorten the template or allow "
                + "more segments."
        case .empty: "The SMS text is empty after rendering; check the template."
        }
    }
}

/// An SMS provider's HTTP API, reached with a provider-neutral JSON body that a thin adapter (or the provider
/// itself) maps onto its own fields.
public struct SMSGateway: Sendable, Hashable {
    public var url: String
    /// Extra headers every request carries, such as the account's `Authorization`.
    public var headers: [HTTPHeader]

    public init(url: String, headers: [HTTPHeader] = []) {
        self.url = url
        self.headers = headers
    }

    /// The POST that sends `message`: `{"encoding","from","segments","text","to"}` (keys sorted, so the same send
    /// always has the same bytes), with the send's idempotency key as the `Idempotency-Key` header.
    public func request(for message: SMSMessage, idempotencyKey: String) -> HTTPMessage {
        // Written by hand, keys in sorted order, as ChannelJSON.encode would write them (see JSONText).
        var json = JSONText(capacity: message.text.utf8.count + message.from.utf8.count + 96)
        json.beginObject()
        json.field("encoding", message.encoding.rawValue)
        json.field("from", message.from)
        json.field("segments", message.segments)
        json.field("text", message.text)
        json.field("to", message.to.e164)
        json.endObject()
        return HTTPMessage(
            url: url,
            headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("Idempotency-Key", idempotencyKey)]
                + headers,
            body: Data(json.bytes), idempotencyKey: idempotencyKey)
    }
}

/// JSON encoding shared by the HTTP channels: sorted keys so a request's bytes are reproducible (a retried send is
/// byte-identical, and push payload sizes are stable), and slashes left unescaped so URLs read as written.
enum ChannelJSON {
    static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(value)
        } catch {
            // Only non-finite floating-point numbers fail to encode, and these bodies hold strings and integers.
            preconditionFailure("JSON encoding of a channel body failed: \(error)")
        }
    }
}
