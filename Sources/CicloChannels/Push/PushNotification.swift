import Foundation

/// A rendered push notification, provider-neutral: a thin adapter maps it onto APNs, FCM or another service.
public struct PushNotification: Sendable, Hashable {
    public var title: String
    public var body: String
    /// Where tapping the notification leads in the app, e.g. "myapp://offers/42" or a universal link.
    public var deepLink: String?
    /// Extra key-value pairs for the app, delivered silently alongside the visible text.
    public var data: [String: String]

    public init(title: String, body: String, deepLink: String? = nil, data: [String: String] = [:]) {
        self.title = title
        self.body = body
        self.deepLink = deepLink
        self.data = data
    }

    /// The JSON payload whose size providers limit: `{"body","data","deep_link","title"}`, keys sorted, UTF-8, with
    /// an absent deep link and empty data left out rather than sent as null and {}.
    public func encodedPayload() -> Data {
        Data(payloadBytes())
    }

    /// The payload written by hand, keys in sorted order, as ChannelJSON.encode would write it (see JSONText).
    func payloadBytes() -> [UInt8] {
        var json = JSONText(capacity: title.utf8.count + body.utf8.count + (deepLink?.utf8.count ?? 0) + 64)
        json.beginObject()
        json.field("body", body)
        if !data.isEmpty {
            json.key("data")
            json.appendObject(data)
        }
        if let deepLink { json.field("deep_link", deepLink) }
        json.field("title", title)
        json.endObject()
        return json.bytes
    }
}

/// A push provider's HTTP API, reached with a provider-neutral JSON body: `{"payload":{...},"token":"..."}`.
public struct PushGateway: Sendable, Hashable {
    /// APNs and FCM both refuse a notification payload over 4 KB.
    public static let defaultMaxPayloadBytes = 4096

    public var url: String
    /// Extra headers every request carries, such as the account's `Authorization`.
    public var headers: [HTTPHeader]
    /// The largest encoded payload, in bytes, the provider accepts.
    public var maxPayloadBytes: Int

    public init(url: String, headers: [HTTPHeader] = [], maxPayloadBytes: Int = PushGateway.defaultMaxPayloadBytes) {
        self.url = url
        self.headers = headers
        self.maxPayloadBytes = maxPayloadBytes
    }

    /// The POST that sends `notification` to one device. Checked here rather than left to the provider, so that an
    /// oversized or empty notification is suppressed with a reason instead of failing at the provider on every retry.
    public func request(
        for notification: PushNotification, deviceToken: String, idempotencyKey: String
    ) throws(PushError) -> HTTPMessage {
        let blank = { (text: String) in Blank.isBlank(text, .whitespacesAndNewlines) }
        guard !blank(notification.title) || !blank(notification.body) else {
            throw PushError(.empty, "The push notification has neither a title nor a body; check the template.")
        }
        guard !blank(deviceToken) else {
            throw PushError(.missingDeviceToken, "The push notification has no device token to send to.")
        }
        let payload = notification.payloadBytes()
        guard payload.count <= maxPayloadBytes else {
            throw PushError(
                .tooLarge,
                "The push payload is \(payload.count) bytes; the provider accepts at most \(maxPayloadBytes). Shorten "
                    + "the title, body or data.")
        }
        // Spliced rather than re-encoded, so the payload the provider receives is byte for byte the one measured.
        var body: [UInt8] = []
        body.reserveCapacity(payload.count + deviceToken.utf8.count + 24)
        body += #"{"payload":"#.utf8
        body += payload
        body += #","token":"#.utf8
        body += JSONText.string(deviceToken)
        body += "}".utf8
        return HTTPMessage(
            url: url,
            headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("Idempotency-Key", idempotencyKey)]
                + headers,
            body: Data(body), idempotencyKey: idempotencyKey)
    }
}

/// A push notification that cannot be sent as rendered.
public struct PushError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong. New codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ description: String) { self.description = description }

        /// Neither a title nor a body.
        public static let empty = Code("empty")
        /// The encoded payload is over the provider's limit.
        public static let tooLarge = Code("too_large")
        /// No device token to address.
        public static let missingDeviceToken = Code("missing_device_token")
    }

    public let code: Code
    public let message: String
    public var description: String { message }

    /// The suppression reason recorded for the send.
    public var reason: String {
        switch code {
        case .tooLarge: "push_too_large"
        case .empty: "push_empty"
        default: "push_no_device"
        }
    }

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
