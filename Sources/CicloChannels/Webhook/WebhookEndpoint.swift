import Crypto
import Foundation

/// A customer's or partner's HTTPS endpoint that receives signed JSON POSTs.
///
/// Each request carries `X-Ciclo-Timestamp` (Unix seconds) and `X-Ciclo-Signature: sha256=<hex>`, the HMAC-SHA256
/// of `"<timestamp>.<body>"` keyed with the shared secret. Signing the timestamp with the body lets a receiver reject
/// a replayed request even though its signature is genuine (see `WebhookSignature.verify`).
public struct WebhookEndpoint: Sendable, Hashable {
    public var url: String
    /// The shared secret, from configuration; its UTF-8 bytes are the HMAC key.
    public var secret: String {
        didSet { signingKey = WebhookSigningKey(secret: secret) }
    }
    /// Extra headers every request carries.
    public var headers: [HTTPHeader]
    /// HMAC keyed with `secret`, once per endpoint.
    private var signingKey: WebhookSigningKey

    public init(url: String, secret: String, headers: [HTTPHeader] = []) {
        self.url = url
        self.secret = secret
        self.headers = headers
        signingKey = WebhookSigningKey(secret: secret)
    }

    // Equal and hashed by what it is configured with; the signing key follows from the secret.
    public static func == (lhs: WebhookEndpoint, rhs: WebhookEndpoint) -> Bool {
        lhs.url == rhs.url && lhs.secret == rhs.secret && lhs.headers == rhs.headers
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(url)
        hasher.combine(secret)
        hasher.combine(headers)
    }

    /// The signed POST that delivers `body`, a JSON document, signed as of `now`.
    public func request(body: Data, idempotencyKey: String, now: Date) throws(WebhookError) -> HTTPMessage {
        guard !secret.isEmpty else { throw Self.missingSecret }
        guard (try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])) != nil else {
            throw WebhookError(.invalidBody, "The webhook body is not valid JSON; check the template.")
        }
        return signed(body: body, idempotencyKey: idempotencyKey, now: now)
    }

    private static let missingSecret = WebhookError(
        .missingSecret, "The webhook has no signing secret; configure one for this endpoint.")

    /// The request for a body known to be JSON.
    private func signed(body: Data, idempotencyKey: String, now: Date) -> HTTPMessage {
        let timestamp = WebhookSignature.unixSeconds(now)
        let signature = signingKey.sign(body: body, timestamp: timestamp)
        return HTTPMessage(
            url: url,
            headers: [
                HTTPHeader("Content-Type", "application/json"),
                HTTPHeader("Idempotency-Key", idempotencyKey),
                HTTPHeader(WebhookSignature.timestampHeader, String(timestamp)),
                HTTPHeader(WebhookSignature.signatureHeader, signature),
            ] + headers,
            body: body, idempotencyKey: idempotencyKey)
    }

    /// Encodes `value` as the JSON body (keys sorted) and signs it.
    public func request(
        json value: some Encodable, idempotencyKey: String, now: Date
    ) throws(WebhookError) -> HTTPMessage {
        // The usual body, an object of strings (a template's rendered parts), is written by hand, and is JSON by
        // construction, so it is not parsed again to be checked.
        if let object = value as? [String: String] {
            guard !secret.isEmpty else { throw Self.missingSecret }
            return signed(body: Data(JSONText.object(object)), idempotencyKey: idempotencyKey, now: now)
        }
        if let payload = value as? WebhookPayload {
            guard !secret.isEmpty else { throw Self.missingSecret }
            return signed(body: Data(payload.json), idempotencyKey: idempotencyKey, now: now)
        }
        return try request(body: ChannelJSON.encode(value), idempotencyKey: idempotencyKey, now: now)
    }
}

/// The signature scheme shared by the sender and receivers.
public enum WebhookSignature {
    public static let timestampHeader = "X-Ciclo-Timestamp"
    public static let signatureHeader = "X-Ciclo-Signature"
    /// How far a request's timestamp may be from the receiver's clock before it counts as a replay.
    public static let defaultTolerance: Duration = .seconds(300)

    /// `"sha256=<lowercase hex HMAC-SHA256 of "<timestamp>.<body>">"`.
    public static func sign(body: Data, timestamp: Int64, secret: String) -> String {
        // swift-crypto's incremental HMAC over "<timestamp>." then the body, so the signed text is never copied
        // into one buffer.
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: Data(secret.utf8)))
        hmac.update(data: Array("\(timestamp).".utf8))
        hmac.update(data: body)
        return "sha256=" + UTF8Text.lowerHex(Array(hmac.finalize()))
    }

    static func signedBytes(body: Data, timestamp: Int64) -> Data {
        var bytes = Data("\(timestamp).".utf8)
        bytes.append(body)
        return bytes
    }

    static func unixSeconds(_ date: Date) -> Int64 {
        Int64(date.timeIntervalSince1970.rounded(.down))
    }
}

/// A webhook that cannot be sent, or a received one that fails verification.
public struct WebhookError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong. New codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ description: String) { self.description = description }

        /// Sending: the endpoint has no secret to sign with.
        public static let missingSecret = Code("missing_secret")
        /// Sending: the body is not JSON.
        public static let invalidBody = Code("invalid_body")
        /// Verifying: the timestamp or signature header is absent.
        public static let missingHeader = Code("missing_header")
        /// Verifying: the timestamp is not a whole number of seconds.
        public static let malformedTimestamp = Code("malformed_timestamp")
        /// Verifying: the signature is not "sha256=" and 64 hex digits.
        public static let malformedSignature = Code("malformed_signature")
        /// Verifying: the signature does not match the body, timestamp and secret.
        public static let signatureMismatch = Code("signature_mismatch")
        /// Verifying: the timestamp is further from now than the tolerance.
        public static let staleTimestamp = Code("stale_timestamp")
    }

    public let code: Code
    public let message: String
    public var description: String { message }

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
