import Foundation

/// Byte-level helpers for the renderers, which work on UTF-8 bytes rather than `Character`s or `Unicode.Scalar`s:
/// every character that shapes MIME, HTML or JSON is ASCII, and UTF-8 never uses an ASCII byte inside a multi-byte
/// character, so scanning bytes finds exactly what scanning characters would, at a fraction of the cost.
enum UTF8Text {
    static let upperDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
    static let lowerDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The length of the character a UTF-8 lead byte starts (the input is valid UTF-8: it comes from a `String`).
    @inline(__always)
    static func scalarLength(lead: UInt8) -> Int {
        lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
    }

    /// The scalar whose UTF-8 encoding starts at `index`.
    @inline(__always)
    static func scalar(in bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Unicode.Scalar {
        let lead = UInt32(bytes[index])
        let value: UInt32
        switch scalarLength(lead: bytes[index]) {
        case 1: value = lead
        case 2: value = (lead & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F)
        case 3: value = (lead & 0x0F) << 12 | UInt32(bytes[index + 1] & 0x3F) << 6 | UInt32(bytes[index + 2] & 0x3F)
        default:
            value = (lead & 0x07) << 18 | UInt32(bytes[index + 1] & 0x3F) << 12 | UInt32(bytes[index + 2] & 0x3F) << 6
                | UInt32(bytes[index + 3] & 0x3F)
        }
        return Unicode.Scalar(value) ?? "\u{FFFD}"
    }

    /// Unicode's White_Space property (what `Unicode.Scalar.Properties.isWhitespace` answers), as a switch: the
    /// property lookup is a table search that dominated the HTML-to-text profile. The set has been stable since
    /// Unicode 6.3.
    @inline(__always)
    static func isWhitespace(_ value: UInt32) -> Bool {
        switch value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    /// The first index at or after `start` where `byte` is, found with the C library's vectorised `memchr`.
    @inline(__always)
    static func firstIndex(of byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }

    /// Whether `string`'s UTF-8 holds `byte`, found with `memchr` on its storage: iterating the UTF-8 view cost
    /// about 30 instructions a byte.
    @inline(__always)
    static func contains(_ string: String, _ byte: UInt8) -> Bool {
        var string = string
        return string.withUTF8 { firstIndex(of: byte, in: $0, from: 0) != nil }
    }

    /// Whether any byte of `string`'s UTF-8 passes `test`, read from its storage.
    @inline(__always)
    static func contains(_ string: String, where test: (UInt8) -> Bool) -> Bool {
        var string = string
        return string.withUTF8 { $0.contains(where: test) }
    }

    /// Appends `string`'s UTF-8 bytes.
    @inline(__always)
    static func append(_ string: String, to bytes: inout [UInt8]) {
        var string = string
        string.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// Appends `byte` as two hexadecimal digits from `digits`.
    @inline(__always)
    static func appendHex(_ byte: UInt8, to bytes: inout [UInt8], digits: [UInt8] = upperDigits) {
        bytes.append(digits[Int(byte >> 4)])
        bytes.append(digits[Int(byte & 0x0F)])
    }

    /// `prefix` and then the lowercase hexadecimal of `bytes`, written straight into the string's storage: an
    /// array of digits turned into a `String` cost a third of what hashing the key did.
    static func lowerHex(_ bytes: some Collection<UInt8>, after prefix: StaticString = "") -> String {
        String(unsafeUninitializedCapacity: prefix.utf8CodeUnitCount + 2 * bytes.count) { out in
            let digits = hexDigits.utf8Start
            var index = prefix.utf8CodeUnitCount
            if index > 0 { out.baseAddress!.initialize(from: prefix.utf8Start, count: index) }
            for byte in bytes {
                out[index] = digits[Int(byte >> 4)]
                out[index + 1] = digits[Int(byte & 0x0F)]
                index += 2
            }
            return index
        }
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    /// The strings one after another, in one string sized once: `+` grew the result piece by piece.
    static func concatenate(_ parts: String...) -> String {
        var length = 0
        for part in parts { length += part.utf8.count }
        return String(unsafeUninitializedCapacity: length) { out in
            var count = 0
            for var part in parts {
                part.withUTF8 { bytes in
                    guard let base = bytes.baseAddress, count + bytes.count <= out.count else { return }
                    (out.baseAddress! + count).initialize(from: base, count: bytes.count)
                    count += bytes.count
                }
            }
            return count
        }
    }

    /// Where the pieces of `value.split(separator: " ", omittingEmptySubsequences: false)` are, as offsets into
    /// `bytes` (the value's UTF-8), found without walking every character: `split` compares `Character`s, so a space
    /// that joins a neighbour in one character (a combining mark after it, a prepended mark before it) splits
    /// nothing. No character below U+0300 joins a space, so a space between two of those stands alone; others ask
    /// the string whether both sides of the space are character boundaries.
    static func spaceSeparatedRanges(_ value: String, bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(bytes.count + 1)  // at most one piece per space, plus one: no growing
        var start = 0
        bytes.withUnsafeBufferPointer { bytes in
            for offset in bytes.indices where bytes[offset] == UInt8(ascii: " ") {
                let plainNeighbours =
                    isBelowCombiningMarks(before: offset, in: bytes) && isBelowCombiningMarks(at: offset + 1, in: bytes)
                if !plainNeighbours {
                    let utf8 = value.utf8
                    let space = utf8.index(utf8.startIndex, offsetBy: offset)
                    let next = utf8.index(after: space)
                    guard space.samePosition(in: value) != nil && next.samePosition(in: value) != nil else { continue }
                }
                ranges.append(start..<offset)
                start = offset + 1
            }
        }
        ranges.append(start..<bytes.count)
        return ranges
    }

    /// Whether the character at `offset` (or the end) is below U+0300: ASCII, or a two-byte sequence led by less
    /// than 0xCC (U+0300 is CC 80).
    @inline(__always)
    private static func isBelowCombiningMarks(at offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        offset >= bytes.count || bytes[offset] < 0xCC
    }

    /// The same for the character that ends just before `offset` (or the start).
    @inline(__always)
    private static func isBelowCombiningMarks(before offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard offset > 0 else { return true }
        let last = bytes[offset - 1]
        if last < 0x80 { return true }
        // A continuation byte: the character is below U+0300 only if it is two bytes long with a small lead.
        return offset >= 2 && bytes[offset - 2] >= 0xC0 && bytes[offset - 2] < 0xCC
    }

    /// Whether `string` starts with `prefix` (lowercase ASCII), ignoring ASCII case. For ASCII strings only, where it
    /// answers what `string.lowercased().hasPrefix(prefix)` answers without making a lowercased copy.
    static func hasASCIIPrefixIgnoringCase(_ string: String, _ prefix: StaticString) -> Bool {
        var string = string
        return string.withUTF8 { hasASCIIPrefixIgnoringCase($0, prefix) }
    }

    /// The same for bytes, compared through pointers: zipping the two views cost more than the rest of a check.
    static func hasASCIIPrefixIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        let expected = prefix.utf8Start
        for index in 0..<count {
            let byte = bytes[index]
            if (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte) != expected[index] {
                return false
            }
        }
        return true
    }

    /// The byte offset of the last occurrence of `needle` (lowercase ASCII) in `string` that starts before `end`,
    /// ignoring ASCII case, found on the bytes.
    static func lastOffsetIgnoringASCIICase(of needle: StaticString, in string: String, before end: Int? = nil)
        -> Int?
    {
        var string = string
        return string.withUTF8 { bytes in
            let count = needle.utf8CodeUnitCount
            let last = min(bytes.count - count, (end ?? bytes.count) - 1)
            guard count > 0, last >= 0 else { return nil }
            for start in stride(from: last, through: 0, by: -1)
            where hasASCIIPrefixIgnoringCase(UnsafeBufferPointer(rebasing: bytes[start...]), needle) {
                return start
            }
            return nil
        }
    }

    /// Whether `string`'s UTF-8 starts with `prefix`.
    static func hasPrefix(_ string: String, _ prefix: [UInt8]) -> Bool {
        var string = string
        return string.withUTF8 { bytes in
            prefix.withUnsafeBufferPointer { prefix in
                bytes.count >= prefix.count
                    && (prefix.isEmpty || memcmp(bytes.baseAddress!, prefix.baseAddress!, prefix.count) == 0)
            }
        }
    }

    /// `body` over the UTF-8 of two strings that are both ASCII, or nil when either is not. In ASCII text a
    /// character is a byte (CR LF aside, which no check here looks into), so lowercasing and prefixes answer on
    /// bytes what they answer on characters, without a lowercased copy or a joined string.
    static func ifASCII<Result>(
        _ first: String, _ second: String,
        _ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result? {
        var first = first
        var second = second
        return first.withUTF8 { first in
            second.withUTF8 { second in
                let isASCII = !first.contains { $0 >= 0x80 } && !second.contains { $0 >= 0x80 }
                return isASCII ? body(first, second) : nil
            }
        }
    }

    /// Whether the byte `first` is directly followed by `second` somewhere in `string`.
    static func containsPair(_ string: String, _ first: UInt8, _ second: UInt8) -> Bool {
        var previous: UInt8? = nil
        for byte in string.utf8 {
            if previous == first && byte == second { return true }
            previous = byte
        }
        return false
    }

    /// Whether any scalar of `string` is a C0 control (tab aside, when allowed), DEL or a C1 control: the same
    /// question `EmailAddress.rejectControls` asks, answered on bytes. C1 controls are the bytes C2 80 to C2 9F.
    static func hasControl(_ string: String, allowTab: Bool) -> Bool {
        var string = string
        return string.withUTF8 { bytes in
            var previous: UInt8 = 0
            for byte in bytes {
                if byte < 0x20 && !(allowTab && byte == 0x09) || byte == 0x7F { return true }
                if previous == 0xC2 && byte < 0xA0 && byte >= 0x80 { return true }
                previous = byte
            }
            return false
        }
    }
}

/// Trimming and blank checks that give exactly what Foundation's `trimmingCharacters(in:)` gives for
/// `.whitespaces` and `.whitespacesAndNewlines`, which trims whole scalars from both ends, without bridging the
/// string when there is nothing to trim, which is nearly always.
enum Blank {
    enum Kind {
        case whitespaces, whitespacesAndNewlines

        var characterSet: CharacterSet {
            self == .whitespaces ? .whitespaces : .whitespacesAndNewlines
        }
    }

    // Read from Foundation itself, so the ASCII answers cannot drift from the sets they stand for.
    private static let asciiWhitespaces = (0..<128).map { CharacterSet.whitespaces.contains(Unicode.Scalar(UInt8($0))) }
    private static let asciiWhitespacesAndNewlines = (0..<128).map {
        CharacterSet.whitespacesAndNewlines.contains(Unicode.Scalar(UInt8($0)))
    }

    @inline(__always)
    static func contains(_ scalar: Unicode.Scalar, _ set: Kind) -> Bool {
        if scalar.value < 0x80 {
            let table = set == .whitespaces ? asciiWhitespaces : asciiWhitespacesAndNewlines
            return table[Int(scalar.value)]
        }
        return set.characterSet.contains(scalar)
    }

    /// `string.trimmingCharacters(in: set)`.
    static func trimmed(_ string: String, _ set: Kind) -> String {
        let scalars = string.unicodeScalars
        guard let first = scalars.firstIndex(where: { !contains($0, set) }) else { return "" }
        let last = scalars.lastIndex(where: { !contains($0, set) })!
        if first == scalars.startIndex && scalars.index(after: last) == scalars.endIndex { return string }
        return String(scalars[first...last])
    }

    /// `string.trimmingCharacters(in: set).isEmpty`.
    static func isBlank(_ string: String, _ set: Kind) -> Bool {
        string.unicodeScalars.allSatisfy { contains($0, set) }
    }
}
