import Crypto
import Foundation
import Synchronization

/// An endpoint's secret with HMAC-SHA256 already keyed by it. Keying hashes one block for the inner key and one for
/// the outer, the same for every request to the endpoint and a quarter of the cost of signing one, so it is done once.
/// swift-crypto's `HMAC` is not `Sendable`, so the keyed state sits behind a lock; each request signs a copy of it
/// (its digest state is copy-on-write), holding the lock for that one signature.
final class WebhookSigningKey: Sendable {
    let secret: String
    private let keyed: Mutex<HMAC<SHA256>>

    init(secret: String) {
        self.secret = secret
        keyed = Mutex(HMAC<SHA256>(key: SymmetricKey(data: Data(secret.utf8))))
    }

    /// What `WebhookSignature.sign` gives for this secret: `"sha256=<hex of HMAC("<timestamp>.<body>")>"`.
    func sign(body: Data, timestamp: Int64) -> String {
        keyed.withLock { keyed in
            var hmac = keyed
            hmac.update(data: Array("\(timestamp).".utf8))
            hmac.update(data: body)
            return "sha256=" + UTF8Text.lowerHex(Array(hmac.finalize()))
        }
    }
}
