import Foundation

/// The channels Ciclo delivers on.
public enum Channel: String, Sendable, CaseIterable, Codable {
    case email, sms, push, webhook
}

/// A rendered email ready for an SMTP relay: the envelope and the complete RFC 5322 message.
public struct EmailEnvelope: Sendable, Equatable {
    /// The envelope sender (MAIL FROM), a bare address.
    public var from: String
    /// Envelope recipients (RCPT TO), bare addresses.
    public var recipients: [String]
    /// The whole message, headers and body, with CRLF line ends.
    public var message: Data
    /// The Message-ID header's value without angle brackets; derived from the send's idempotency key.
    public var messageID: String

    public init(from: String, recipients: [String], message: Data, messageID: String) {
        self.from = from
        self.recipients = recipients
        self.message = message
        self.messageID = messageID
    }
}

/// An HTTP request to a provider API or a webhook endpoint.
public struct HTTPMessage: Sendable, Equatable {
    public var method: String
    public var url: String
    /// Header names and values, in order; names may repeat.
    public var headers: [HTTPHeader]
    public var body: Data
    /// Also sent as the `Idempotency-Key` header, so a retried send is recognised by the provider.
    public var idempotencyKey: String

    public init(method: String = "POST", url: String, headers: [HTTPHeader] = [], body: Data, idempotencyKey: String) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.idempotencyKey = idempotencyKey
    }
}

public struct HTTPHeader: Sendable, Equatable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// What a transport reports for one delivery attempt. Every failure is classified: a transient one is retried
/// with backoff, a permanent one fails the send at once. A throttle (the provider's 429, or the shared rate limit
/// not granting in time) is no failure: the send waits and is tried again without counting the attempt.
public enum TransportResult: Sendable, Equatable {
    case delivered(providerMessageID: String?)
    case failed(message: String, permanent: Bool, retryAfter: Duration?)
    case throttled(message: String, retryAfter: Duration?)
}

/// Delivers rendered email.
public protocol EmailTransport: Sendable {
    func send(_ email: EmailEnvelope) async -> TransportResult
}

/// Delivers HTTP requests (provider APIs for SMS and push, webhooks).
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPMessage) async -> TransportResult
}
