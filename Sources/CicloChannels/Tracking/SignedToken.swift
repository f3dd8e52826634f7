import Crypto
import Foundation

/// A token that carries a send and proves it was made by Ciclo: `base64url(JSON claims).base64url(HMAC-SHA256)`.
/// Unsubscribe links, click redirects and open pixels carry one, so a forged or edited link is rejected and
/// nothing is recorded from it.
public struct SignedToken: Sendable, Equatable {
    /// What a token says: which send, which customer and channel, and for clicks the URL it may redirect to.
    public struct Claims: Sendable, Codable, Equatable {
        /// The send's idempotency key.
        public var key: String
        public var customer: Int64
        public var channel: String
        /// `u` unsubscribe, `c` click, `o` open.
        public var purpose: String
        public var url: String?

        public init(key: String, customer: Int64, channel: String, purpose: String, url: String? = nil) {
            self.key = key
            self.customer = customer
            self.channel = channel
            self.purpose = purpose
            self.url = url
        }

        enum CodingKeys: String, CodingKey {
            case key = "k", customer = "c", channel = "ch", purpose = "p", url = "u"
        }
    }

    public enum VerificationError: Error, Sendable, Equatable {
        case malformed, badSignature, wrongPurpose
    }

    /// Signs claims with `secret`.
    ///
    /// The claims' JSON is what JSONEncoder writes with sorted keys and unescaped slashes (`JSONText`), written by
    /// hand: the encoder and Foundation's base64 took most of the cost of an email's open pixel and its links.
    public static func sign(_ claims: Claims, secret: SymmetricKey) -> String {
        sign(claims) { token in token.withUnsafeBytes { HMAC<SHA256>.authenticationCode(for: $0, using: secret) } }
    }

    /// Signs claims with a secret keyed once (what a worker does for every send's links).
    public static func sign(_ claims: Claims, key: KeyedHMAC) -> String {
        sign(claims) { token in key.code { hmac in hmac.update(data: token) } }
    }

    private static func sign(_ claims: Claims, mac: (UnsafeRawBufferPointer) -> HMAC<SHA256>.MAC) -> String {
        var json = JSONText(capacity: 96 + claims.key.utf8.count + (claims.url?.utf8.count ?? 0))
        json.beginObject()
        json.field("c", Int(claims.customer))
        json.field("ch", claims.channel)
        json.field("k", claims.key)
        json.field("p", claims.purpose)
        if let url = claims.url { json.field("u", url) }
        json.endObject()
        // base64url without padding (RFC 4648 section 5), as `base64url` gives, written straight into the token's
        // storage: the claims, then "." and the MAC of what precedes it (32 bytes, 43 characters).
        let claimsLength = (4 * json.bytes.count + 2) / 3
        return String(unsafeUninitializedCapacity: claimsLength + 1 + 43) { token in
            var count = 0
            Base64.encode(json.bytes, alphabet: Base64.url, padded: false) { character in
                token[count] = character
                count += 1
            }
            let code = mac(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: token[..<count])))
            token[count] = UInt8(ascii: ".")
            count += 1
            code.withUnsafeBytes { code in
                Base64.encode(code, alphabet: Base64.url, padded: false) { character in
                    token[count] = character
                    count += 1
                }
            }
            return count
        }
    }

    /// Signs with a secret given as text (from configuration).
    public static func sign(_ claims: Claims, secret: String) -> String {
        sign(claims, secret: SymmetricKey(data: Data(secret.utf8)))
    }

    public static func verify(_ token: String, purpose: String, secret: String) throws(VerificationError) -> Claims {
        try verify(token, purpose: purpose, secret: SymmetricKey(data: Data(secret.utf8)))
    }

    /// Checks the signature (in constant time) and the purpose, and returns the claims.
    public static func verify(_ token: String, purpose: String, secret: SymmetricKey) throws(VerificationError)
        -> Claims
    {
        try verify(token, purpose: purpose) { mac, signed in
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: signed, using: secret)
        }
    }

    /// The same with a secret keyed once (the reporter checks every open, click and unsubscribe with one).
    /// `MAC == Data` compares in constant time, as `isValidAuthenticationCode` does.
    public static func verify(_ token: String, purpose: String, key: KeyedHMAC) throws(VerificationError) -> Claims {
        try verify(token, purpose: purpose) { mac, signed in key.code { $0.update(data: signed) } == mac }
    }

    private static func verify(_ token: String, purpose: String, valid: (Data, Data) -> Bool)
        throws(VerificationError) -> Claims
    {
        let pieces = token.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count == 2, let mac = decodeBase64url(String(pieces[1])),
              let json = decodeBase64url(String(pieces[0]))
        else { throw .malformed }
        guard valid(mac, Data(pieces[0].utf8)) else { throw .badSignature }
        guard let claims = try? JSONDecoder().decode(Claims.self, from: json) else { throw .malformed }
        guard claims.purpose == purpose else { throw .wrongPurpose }
        return claims
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64url(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
