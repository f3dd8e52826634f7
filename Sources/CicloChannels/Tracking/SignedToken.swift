import Crypto
import Foundation

/// A token that carries a send and proves it was made by Ciclo: `base64url(JSON claims).base64url(tag)`, the tag
/// being an HMAC-SHA256 of the claims' text. Unsubscribe links, click redirects and open pixels carry one, so a
/// forged or edited link is rejected and nothing is recorded from it. A whole token's claims name its purpose and its
/// tag is the whole MAC; a pair's (`signPair`: a send's open pixel and unsubscribe links) name none, and each of
/// the two carries one half of the MAC.
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

        /// A paired token's claims carry no purpose (`SignedToken.signPair`): it decodes as "".
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            key = try container.decode(String.self, forKey: .key)
            customer = try container.decode(Int64.self, forKey: .customer)
            channel = try container.decode(String.self, forKey: .channel)
            // Absent in a pair's claims; never empty in a whole token's, so that the two cannot be confused.
            let named = try container.decodeIfPresent(String.self, forKey: .purpose)
            if named?.isEmpty == true {
                throw DecodingError.dataCorruptedError(
                    forKey: .purpose, in: container, debugDescription: "empty purpose")
            }
            purpose = named ?? ""
            url = try container.decodeIfPresent(String.self, forKey: .url)
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
        let signed = claimsText(claims, withPurpose: true)
        let code = signed.withUnsafeBytes { HMAC<SHA256>.authenticationCode(for: $0, using: secret) }
        return code.withUnsafeBytes { token(signed, tag: $0) }
    }

    /// Signs claims with a secret keyed once (what a worker does for every send's links).
    public static func sign(_ claims: Claims, key: KeyedHMAC) -> String {
        let signed = claimsText(claims, withPurpose: true)
        return key.code { hmac in signed.withUnsafeBytes { hmac.update(data: $0) } }
            .withUnsafeBytes { token(signed, tag: $0) }
    }

    /// The open pixel's and the unsubscribe links' tokens of one send, from one signature: the claims carry no
    /// purpose, and each token carries one half of their MAC (the pixel the first 16 bytes, the unsubscribe links
    /// the last). Signing is most of what a token costs, and every tracked email needs both. A half says nothing of
    /// the other, so whoever sees the pixel's URL (an image proxy's log) still cannot unsubscribe the customer, and a
    /// half is 128 bits, as much as RFC 2104 asks of a truncated HMAC.
    public static func signPair(key idempotencyKey: String, customer: Int64, channel: String, key: KeyedHMAC)
        -> (open: String, unsubscribe: String)
    {
        let signed = claimsText(
            .init(key: idempotencyKey, customer: customer, channel: channel, purpose: ""), withPurpose: false)
        let code = key.code { hmac in signed.withUnsafeBytes { hmac.update(data: $0) } }
        return code.withUnsafeBytes { code in
            (token(signed, tag: UnsafeRawBufferPointer(rebasing: code[..<16])),
             token(signed, tag: UnsafeRawBufferPointer(rebasing: code[16...])))
        }
    }

    /// The purposes a paired token may carry, and where their half of the MAC starts.
    static let pairedHalves: [String: Int] = ["o": 0, "u": 16]

    /// base64url (RFC 4648 section 5, no padding) of the claims' JSON: what a token's MAC signs.
    private static func claimsText(_ claims: Claims, withPurpose: Bool) -> [UInt8] {
        precondition(!withPurpose || !claims.purpose.isEmpty, "a whole token names its purpose")
        var json = JSONText(capacity: 96 + claims.key.utf8.count + (claims.url?.utf8.count ?? 0))
        json.beginObject()
        json.field("c", Int(claims.customer))
        json.field("ch", claims.channel)
        json.field("k", claims.key)
        if withPurpose { json.field("p", claims.purpose) }
        if let url = claims.url { json.field("u", url) }
        json.endObject()
        return json.bytes.withUnsafeBytes { json in
            [UInt8](unsafeUninitializedCapacity: Base64.length(of: json.count, padded: false)) { text, count in
                let end = Base64.write(json, alphabet: Base64.url, padded: false, to: text.baseAddress!)
                count = text.baseAddress!.distance(to: end)
            }
        }
    }

    /// `signed`, "." and `tag` in base64url, written straight into the token's storage.
    private static func token(_ signed: [UInt8], tag: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: signed.count + 1 + Base64.length(of: tag.count, padded: false)) { token in
            _ = token.initialize(from: signed)
            token[signed.count] = UInt8(ascii: ".")
            let end = Base64.write(tag, alphabet: Base64.url, padded: false, to: token.baseAddress! + signed.count + 1)
            return token.baseAddress!.distance(to: end)
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
        try verify(token, purpose: purpose) { signed in Data(HMAC<SHA256>.authenticationCode(for: signed, using: secret)) }
    }

    /// The same with a secret keyed once (the reporter checks every open, click and unsubscribe with one).
    public static func verify(_ token: String, purpose: String, key: KeyedHMAC) throws(VerificationError) -> Claims {
        try verify(token, purpose: purpose) { signed in Data(key.code { $0.update(data: signed) }) }
    }

    /// A token is either whole (its claims name their purpose, its tag is the MAC's 32 bytes) or one of a pair
    /// (its claims name none, its tag is the 16 bytes of the MAC that `pairedHalves` gives the purpose asked for).
    /// A pair's claims without a purpose keep a whole token's MAC, cut in half, from passing as one of a pair.
    private static func verify(_ token: String, purpose: String, mac: (Data) -> Data) throws(VerificationError)
        -> Claims
    {
        guard !purpose.isEmpty else { throw .wrongPurpose }
        let pieces = token.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count == 2, let tag = decodeBase64url(String(pieces[1])),
              let json = decodeBase64url(String(pieces[0]))
        else { throw .malformed }
        let expected: Data
        switch tag.count {
        case 32: expected = mac(Data(pieces[0].utf8))
        case 16:
            guard let half = pairedHalves[purpose] else { throw .wrongPurpose }
            expected = mac(Data(pieces[0].utf8)).subdata(in: half..<half + 16)
        default: throw .malformed
        }
        guard equalInConstantTime(tag, expected) else { throw .badSignature }
        guard var claims = try? JSONDecoder().decode(Claims.self, from: json) else { throw .malformed }
        if tag.count == 16 {
            guard claims.purpose.isEmpty else { throw .badSignature }
            claims.purpose = purpose
        }
        guard claims.purpose == purpose else { throw .wrongPurpose }
        return claims
    }

    /// Whether two tags of the same length are equal, taking as long whichever byte differs.
    private static func equalInConstantTime(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
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
