/// Quoted-printable (RFC 2045 6.7) with soft line breaks so that encoded lines stay at 76 characters; a long line of
/// the text comes back whole when decoded. Each line of the text (a final line end gives a final empty line) becomes
/// one or more encoded lines, each followed by CRLF.
enum QuotedPrintable {
    /// How the lines of the text to encode end.
    enum LineEnd {
        /// CRLF: the text is in canonical form.
        case crlf
        /// LF: the text is taken to have no CR, so that its canonical form would only add a CR before each LF;
        /// `sawReturn` reports whether that held.
        case lf
    }

    /// The encoded lines, the number of bytes that needed quoting by `BodyEncoding.choose`'s measure, the number of
    /// lines, and whether a CR turned up inside a line.
    struct Result {
        var encoded: [UInt8]
        var quoted: Int
        var lines: Int
        var sawReturn: Bool
    }

    /// Writes through a pointer into room reserved for the worst case: a byte becomes at most 3 characters, a soft
    /// break (3 characters) comes at most once per 24 bytes, and each line (at most one per byte, plus one) gains at
    /// most a CRLF and a soft break.
    static func encode(_ bytes: UnsafeBufferPointer<UInt8>, lineEnd: LineEnd) -> Result {
        let bound = 3 * bytes.count + bytes.count / 8 + 5 * (bytes.count + 1) + 16
        var writer: Writer?
        let encoded = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            var lineWriter = Writer(output: buffer.baseAddress!)
            // Line ends are found with memchr: a LF, or a CR followed by a LF.
            let separator = lineEnd == .crlf ? 2 : 1
            let first: UInt8 = lineEnd == .crlf ? 0x0D : 0x0A
            var lineStart = 0
            var index = 0
            while let end = UTF8Text.firstIndex(of: first, in: bytes, from: index), end + separator - 1 < bytes.count {
                if lineEnd == .crlf && bytes[end + 1] != 0x0A {
                    index = end + 1
                    continue
                }
                lineWriter.line(bytes, lineStart..<end)
                lineStart = end + separator
                index = lineStart
            }
            lineWriter.line(bytes, lineStart..<bytes.count)
            count = lineWriter.count
            precondition(count <= bound, "quoted-printable bound exceeded")
            writer = lineWriter
        }
        return Result(encoded: encoded, quoted: writer!.quoted, lines: writer!.lines, sawReturn: writer!.sawReturn)
    }

    /// Writes quoted-printable lines through a pointer; see `encode` for the room it needs.
    private struct Writer {
        let output: UnsafeMutablePointer<UInt8>
        var count = 0
        var quoted = 0
        var lines = 0
        var sawReturn = false

        init(output: UnsafeMutablePointer<UInt8>) { self.output = output }

        @inline(__always)
        private mutating func put(_ byte: UInt8) {
            output[count] = byte
            count += 1
        }

        mutating func line(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) {
            lines += 1
            var length = 0  // of the encoded line being written
            var index = line.lowerBound
            while index < line.upperBound {
                // Past the start of an encoded line, bytes that stand for themselves are copied in a tight loop, as
                // far as the line has room (75, keeping one for a soft break's "="), stopping before the text line's
                // last byte, whose rules differ. None of them needs quoting by `choose`'s measure either.
                if length > 0 {
                    let limit = min(line.upperBound - 1, index + 75 - length)
                    var end = index
                    let base = bytes.baseAddress!
                    while end + 8 <= limit
                        && Self.allLiteralInside(UnsafeRawPointer(base + end).loadUnaligned(as: UInt64.self))
                    {
                        end += 8
                    }
                    while end < limit && Self.isLiteralInside(bytes[end]) { end += 1 }
                    if end > index {
                        (output + count).initialize(from: bytes.baseAddress! + index, count: end - index)
                        count += end - index
                        length += end - index
                        index = end
                    }
                }
                let byte = bytes[index]
                if byte >= 0x80 && length <= 72 {
                    // Non-ASCII (accented letters) is quoted wherever it stands; with room left for "=XX" and a soft
                    // break, none of the rules below can apply.
                    quoted &+= 1
                    put(UInt8(ascii: "="))
                    put(Self.hexDigit(byte >> 4))
                    put(Self.hexDigit(byte & 0x0F))
                    length += 3
                    index += 1
                    continue
                }
                quoted &+= BodyEncoding.needsQuoting(byte) ? 1 : 0
                sawReturn = sawReturn || byte == 0x0D
                let isLast = index == line.upperBound - 1
                var isQuoted = Self.isQuoted(bytes, index, line, atLineStart: length == 0, isLast: isLast)
                // An encoded line holds 76 characters; all but the last piece need room for the soft break's "=".
                if length + (isQuoted ? 3 : 1) > (isLast ? 76 : 75) {
                    put(UInt8(ascii: "="))
                    put(0x0D)
                    put(0x0A)
                    length = 0
                    isQuoted = Self.isQuoted(bytes, index, line, atLineStart: true, isLast: isLast)
                }
                if isQuoted {
                    put(UInt8(ascii: "="))
                    put(Self.hexDigit(byte >> 4))
                    put(Self.hexDigit(byte & 0x0F))
                    length += 3
                } else {
                    put(byte)
                    length += 1
                }
                index += 1
            }
            put(0x0D)
            put(0x0A)
        }

        @inline(__always)
        fileprivate static func hexDigit(_ value: UInt8) -> UInt8 {
            value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
        }

        /// Bytes that stand for themselves anywhere on a line except at its start (RFC 2045 6.7 rule 2).
        @inline(__always)
        fileprivate static func isLiteral(_ byte: UInt8) -> Bool {
            byte >= 0x21 && byte <= 0x7E && byte != UInt8(ascii: "=")
        }

        /// Whether all eight bytes of `word` are printable ASCII or spaces, and none is "=": each then stands for
        /// itself inside a line, and eight are tested at once (SWAR: a byte's high bit in each mask says "below
        /// 0x20", "0x80 or above", "0x7F" or "=", and the tests are exact for "is there any such byte").
        @inline(__always)
        private static func allLiteralInside(_ word: UInt64) -> Bool {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            func hasZero(_ value: UInt64) -> UInt64 { (value &- ones) & ~value & highs }
            let below20 = (word &- ones &* 0x20) & ~word & highs
            let bad = below20 | (word & highs) | hasZero(word ^ (ones &* 0x7F)) | hasZero(word ^ (ones &* 0x3D))
            return bad == 0
        }

        /// Bytes that stand for themselves anywhere but at the start or the end of a line: the literal ones, and the
        /// space and tab, which must be quoted only at the end (rule 3).
        @inline(__always)
        fileprivate static func isLiteralInside(_ byte: UInt8) -> Bool {
            isLiteral(byte) || byte == 0x20 || byte == 0x09
        }

        /// Whether one byte goes on the wire as "=XX". Besides what RFC 2045 requires (non-ASCII, "=", and a space
        /// or tab at the end of a line, which relays may strip), a "." or "From " at the start of a line is quoted,
        /// because some gateways still treat them specially (SMTP end of data, mbox separators).
        @inline(__always)
        private static func isQuoted(
            _ bytes: UnsafeBufferPointer<UInt8>, _ index: Int, _ line: Range<Int>, atLineStart: Bool, isLast: Bool
        ) -> Bool {
            let byte = bytes[index]
            if atLineStart {
                if byte == UInt8(ascii: ".") { return true }
                if byte == UInt8(ascii: "F") && index + 5 <= line.upperBound && bytes[index + 1] == UInt8(ascii: "r")
                    && bytes[index + 2] == UInt8(ascii: "o") && bytes[index + 3] == UInt8(ascii: "m")
                    && bytes[index + 4] == UInt8(ascii: " ")
                {
                    return true
                }
            }
            if isLiteral(byte) { return false }
            return !((byte == 0x20 || byte == 0x09) && !isLast)
        }
    }
}

extension QuotedPrintable {
    // The byte rules, for `SplicingEncoder`, which must decide exactly as `Writer` does.
    @inline(__always)
    static func hexDigit(_ value: UInt8) -> UInt8 { Writer.hexDigit(value) }
    @inline(__always)
    static func isLiteral(_ byte: UInt8) -> Bool { Writer.isLiteral(byte) }
    @inline(__always)
    static func isLiteralInside(_ byte: UInt8) -> Bool { Writer.isLiteralInside(byte) }
}
