/// Standard base64 with padding (RFC 4648 section 4), the same characters `Data.base64EncodedString()` gives,
/// handed out one at a time so callers can write them where they need them (MIME lines, encoded-words) without
/// building intermediate strings.
enum Base64 {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: some Collection<UInt8>, _ emit: (UInt8) -> Void) {
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            let group = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            emit(alphabet[Int(group >> 18 & 0x3F)])
            emit(alphabet[Int(group >> 12 & 0x3F)])
            emit(second == nil ? UInt8(ascii: "=") : alphabet[Int(group >> 6 & 0x3F)])
            emit(third == nil ? UInt8(ascii: "=") : alphabet[Int(group & 0x3F)])
        }
    }

    /// The encoded length of `count` bytes.
    static func length(of count: Int) -> Int { (count + 2) / 3 * 4 }
}
