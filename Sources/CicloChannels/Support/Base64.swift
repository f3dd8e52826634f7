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

    /// The encoded length of `count` bytes, padded or not.
    static func length(of count: Int, padded: Bool = true) -> Int { padded ? (count + 2) / 3 * 4 : (4 * count + 2) / 3 }

    /// Writes `bytes` encoded at `next`, which must have room for `length(of: bytes.count, padded: padded)`
    /// characters, and returns the position after them. Whole groups of three bytes go four characters at a time
    /// through the pointer; handing out one character at a time cost several times as much on long text.
    @discardableResult
    static func write(
        _ bytes: UnsafeRawBufferPointer, alphabet: StaticString = standard, padded: Bool = true,
        to next: UnsafeMutablePointer<UInt8>
    ) -> UnsafeMutablePointer<UInt8> {
        let digits = alphabet.utf8Start
        var next = next
        var index = 0
        while index + 3 <= bytes.count {
            let group = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            next[0] = digits[Int(group >> 18)]
            next[1] = digits[Int(group >> 12 & 0x3F)]
            next[2] = digits[Int(group >> 6 & 0x3F)]
            next[3] = digits[Int(group & 0x3F)]
            next += 4
            index += 3
        }
        if index < bytes.count {
            encode(UnsafeRawBufferPointer(rebasing: bytes[index...]), alphabet: alphabet, padded: padded) { character in
                next.pointee = character
                next += 1
            }
        }
        return next
    }
}
