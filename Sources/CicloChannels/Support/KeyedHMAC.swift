import Crypto
import Foundation
import Synchronization

/// HMAC-SHA256 already keyed by a secret. Keying hashes one block for the inner key and one for the outer, the same
/// for every message signed with the secret: a quarter of the cost of a webhook's signature and a third of an open
/// pixel's token, so a worker does it once per secret rather than per send. swift-crypto's `HMAC` is not
/// `Sendable`, so the keyed state sits behind a lock; each signature works on a copy of it (its digest state is
/// copy-on-write), holding the lock for that one copy.
public final class KeyedHMAC: Sendable {
    private let keyed: Mutex<HMAC<SHA256>>

    public init(secret: String) {
        keyed = Mutex(HMAC<SHA256>(key: SymmetricKey(data: Data(secret.utf8))))
    }

    /// The authentication code of whatever `feed` adds to a fresh copy of the keyed state.
    public func code(_ feed: (inout HMAC<SHA256>) -> Void) -> HMAC<SHA256>.MAC {
        var hmac = keyed.withLock { $0 }
        feed(&hmac)
        return hmac.finalize()
    }
}

/// An endpoint's secret, keyed once: what `WebhookSignature.sign` gives, `"sha256=<hex of HMAC("<timestamp>.<body>")>"`.
struct WebhookSigningKey: Sendable {
    let key: KeyedHMAC

    init(secret: String) { key = KeyedHMAC(secret: secret) }

    func sign(body: Data, timestamp: Int64) -> String {
        // The signed text in one buffer, fed in one update: each call to swift-crypto's generic `update(data:)` cost
        // more than copying the body; and the hex is read from the MAC's own bytes rather than an array of them.
        var signed = Array("\(timestamp).".utf8)
        signed.append(contentsOf: body)
        let mac = key.code { hmac in signed.withUnsafeBytes { hmac.update(data: $0) } }
        return mac.withUnsafeBytes { UTF8Text.lowerHex($0, after: "sha256=") }
    }
}
