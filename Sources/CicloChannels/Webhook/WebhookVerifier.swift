import Crypto
import Foundation

extension WebhookSignature {
    /// Checks a received webhook: the signature must be the HMAC of `"<timestamp>.<body>"` under `secret`, compared
    /// in constant time so response timing reveals nothing about the expected value, and the timestamp must lie
    /// within `tolerance` of `now` on either side (a replayed request is stale; a clock far ahead is suspect too).
    ///
    /// The signature is checked first: a stale timestamp is only worth reporting on a request we know is genuine.
    public static func verify(
        body: Data, timestamp: String?, signature: String?, secret: String, now: Date,
        tolerance: Duration = defaultTolerance
    ) throws(WebhookError) {
        guard !secret.isEmpty else {
            // An empty key would let anyone compute a matching signature.
            throw WebhookError(.missingSecret, "No webhook signing secret is configured to verify with.")
        }
        guard let timestamp, let signature else {
            throw WebhookError(.missingHeader, "The webhook lacks the \(timestampHeader) or \(signatureHeader) header.")
        }
        guard let seconds = Int64(timestamp.trimmingCharacters(in: .whitespaces)) else {
            throw WebhookError(.malformedTimestamp, "The webhook's \(timestampHeader) is not Unix seconds.")
        }
        guard let mac = decodeSignature(signature) else {
            throw WebhookError(
                .malformedSignature,
                "The webhook's \(signatureHeader) is not \"sha256=\" followed by 64 hexadecimal digits.")
        }
        let valid = HMAC<SHA256>.isValidAuthenticationCode(
            mac, authenticating: signedBytes(body: body, timestamp: seconds),
            using: SymmetricKey(data: Data(secret.utf8)))
        guard valid else {
            throw WebhookError(
                .signatureMismatch,
                "The webhook's signature does not match its body and timestamp; it was altered or signed with another "
                    + "secret.")
        }
        let skew = (unixSeconds(now) - seconds).magnitude
        let limit = tolerance.components.seconds.magnitude
        guard skew <= limit else {
            throw WebhookError(
                .staleTimestamp,
                "The webhook's timestamp is \(skew) s away from this server's clock, beyond the \(limit) s tolerance; "
                    + "it may be a replay, or a clock is wrong.")
        }
    }

    /// Verifies a request as received, reading the two headers by case-insensitive name.
    public static func verify(
        _ request: HTTPMessage, secret: String, now: Date, tolerance: Duration = defaultTolerance
    ) throws(WebhookError) {
        func header(_ name: String) -> String? {
            request.headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
        try verify(
            body: request.body, timestamp: header(timestampHeader), signature: header(signatureHeader),
            secret: secret, now: now, tolerance: tolerance)
    }

    /// The 32 MAC bytes of "sha256=<64 hex digits>", or nil. Upper-case hex is accepted.
    private static func decodeSignature(_ header: String) -> [UInt8]? {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("sha256=") else { return nil }
        let hex = Array(trimmed.utf8.dropFirst("sha256=".utf8.count))
        guard hex.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for i in stride(from: 0, to: 64, by: 2) {
            guard let high = hexValue(hex[i]), let low = hexValue(hex[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
