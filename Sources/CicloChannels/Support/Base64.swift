/// Base64 (RFC 4648): the standard alphabet with padding, the same characters `Data.base64EncodedString()` gives, or
/// the URL-safe one (section 5), handed out one at a time so callers can write them where they need them (MIME
/// lines, encoded-words, tokens) without building intermediate strings.
enum Base64 {
    static let standard: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    static let url: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

    /// Hands out the characters of `bytes` in `alphabet`, with "=" padding when `padded`.
    @inline(__always)
    static func encode(
        _ bytes: some Collection<UInt8>, alphabet: StaticString = standard, padded: Bool = true,
        _ emit: (UInt8) -> Void
    ) {
        let digits = alphabet.utf8Start
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            let group = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            emit(digits[Int(group >> 18 & 0x3F)])
            emit(digits[Int(group >> 12 & 0x3F)])
            if second != nil {
                emit(digits[Int(group >> 6 & 0x3F)])
            } else if padded {
                emit(UInt8(ascii: "="))
            }
            if third != nil {
                emit(digits[Int(group & 0x3F)])
            } else if padded {
                emit(UInt8(ascii: "="))
            }
        }
    }

    /// The encoded length of `count` bytes, padded.
    static func length(of count: Int) -> Int { (count + 2) / 3 * 4 }
}
