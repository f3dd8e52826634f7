import Crypto
import Foundation

/// HMAC-SHA256 (RFC 2104) computed with swift-crypto's SHA256 directly: H((K ^ opad) || H((K ^ ipad) || message)).
/// The same code as `HMAC<SHA256>`, whose generic key setup and `DataProtocol` plumbing cost more than the hashing
/// when signing a short webhook body; and the message can be given in parts, so the signed text is never copied
/// into one buffer.
enum HMACSHA256 {
    private static let blockSize = 64

    static func authenticationCode(key: [UInt8], parts: [UnsafeRawBufferPointer]) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        if key.count > blockSize {
            var hasher = SHA256()
            key.withUnsafeBytes { hasher.update(bufferPointer: $0) }
            hasher.finalize().withUnsafeBytes { digest in
                for (index, byte) in digest.enumerated() { block[index] = byte }
            }
        } else {
            block.replaceSubrange(0..<key.count, with: key)
        }
        var inner = SHA256()
        block.map { $0 ^ 0x36 }.withUnsafeBytes { inner.update(bufferPointer: $0) }
        for part in parts { inner.update(bufferPointer: part) }
        var outer = SHA256()
        block.map { $0 ^ 0x5C }.withUnsafeBytes { outer.update(bufferPointer: $0) }
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize().withUnsafeBytes { Array($0) }
    }
}
