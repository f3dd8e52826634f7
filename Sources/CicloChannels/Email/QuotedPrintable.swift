/// Quoted-printable (RFC 2045 6.7) with soft line breaks so that encoded lines stay at 76 characters; a long line of
/// the text comes back whole when decoded. Each line of the text (a final line end gives a final empty line) becomes
/// one or more encoded lines, each followed by CRLF, but for the last line of an open piece (`write`), which the
/// caller continues.
///
/// Besides what RFC 2045 requires (non-ASCII, "=", and a space or tab at the end of a line, which relays may strip),
/// a "." or "From " at the start of an encoded line is quoted, because some gateways still treat them specially
/// (SMTP end of data, mbox separators).
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

    /// Writes through a pointer into room reserved for the worst case (`bound`).
    static func encode(_ bytes: UnsafeBufferPointer<UInt8>, lineEnd: LineEnd) -> Result {
        let bound = bound(bytes.count)
        var written: Piece?
        let encoded = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            let piece = write(bytes, lineEnd: lineEnd, to: buffer.baseAddress!)
            count = buffer.baseAddress!.distance(to: piece.next)
            precondition(count <= bound - 16, "quoted-printable bound exceeded")
            written = piece
        }
        return Result(encoded: encoded, quoted: written!.quoted, lines: written!.lines, sawReturn: written!.sawReturn)
    }

    /// The room `write` may need for `count` bytes: a byte becomes at most 3 characters, a soft break (3
    /// characters) comes at most once per 24 bytes, each line (at most one per byte, plus one) gains at most a CRLF
    /// and a soft break, and a run of plain bytes is stored 16 at a time, up to 15 past its end.
    static func bound(_ count: Int) -> Int {
        3 * count + count / 8 + 5 * (count + 1) + 32
    }

    /// What `write` wrote: where it stopped, the column its last encoded line reached (0 after a CRLF), and what
    /// `Result` reports.
    struct Piece {
        var next: UnsafeMutablePointer<UInt8>
        var column: Int
        var quoted: Int
        var lines: Int
        var sawReturn: Bool
    }

    /// Writes the encoded lines of `bytes` at `out`, the first onto an encoded line already holding `column`
    /// characters. When `open`, the text goes on after `bytes` on the same line (a value spliced between static
    /// text, see `SplicedBody`): its last line gets no CRLF, stops at 75 characters to leave room for a soft break,
    /// and its last byte is not treated as the end of a line.
    static func write(
        _ bytes: UnsafeBufferPointer<UInt8>, lineEnd: LineEnd, column: Int = 0, open: Bool = false,
        to out: UnsafeMutablePointer<UInt8>
    ) -> Piece {
        var lineWriter = Writer(bytes: bytes, next: out, open: open)
        // Line ends are found with memchr: a LF, or a CR followed by a LF.
        let separator = lineEnd == .crlf ? 2 : 1
        let first: UInt8 = lineEnd == .crlf ? 0x0D : 0x0A
        var lineStart = 0
        var index = 0
        var column = column
        while let end = UTF8Text.firstIndex(of: first, in: bytes, from: index), end + separator - 1 < bytes.count {
            if lineEnd == .crlf && bytes[end + 1] != 0x0A {
                index = end + 1
                continue
            }
            lineWriter.line(lineStart, end, column: column, open: false)
            column = 0
            lineStart = end + separator
            index = lineStart
        }
        column = lineWriter.line(lineStart, bytes.count, column: column, open: open)
        return Piece(
            next: lineWriter.next, column: column, quoted: lineWriter.quoted, lines: lineWriter.lines,
            sawReturn: lineWriter.sawReturn)
    }

    /// The high bit of each of the eight bytes `loaded` holds (in memory order, from the lowest bit up) that is
    /// not printable ASCII or a space, or is "=" (a tab counts here; it goes through the rules, which leave it
    /// as it is inside a line). SWAR, each byte on its own: its low seven bits plus 0x60 reach the high bit when
    /// they are 0x20 or more, plus 0x01 when they are 0x7F, and XOR "=" leaves them zero for "=" alone; no sum
    /// carries into the next byte.
    @inline(__always)
    static func notPlain(_ loaded: UInt64) -> UInt64 {
        let word = UInt64(littleEndian: loaded)
        let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let low = word & lows
        let atLeast20 = low &+ 0x6060_6060_6060_6060
        let is7F = low &+ 0x0101_0101_0101_0101
        let notEquals = ((word ^ 0x3D3D_3D3D_3D3D_3D3D) & lows) &+ lows
        return (word | is7F | ~(atLeast20 & notEquals)) & 0x8080_8080_8080_8080
    }

    /// Writes quoted-printable lines of `bytes` through a pointer; see `encode` for the room it needs.
    ///
    /// Most bytes stand for themselves, and between the start of an encoded line and the text line's last byte
    /// nothing depends on their place: such runs are found and copied 16 bytes at a time. Only the bytes that end a
    /// run (one to quote, the first of an encoded line, a text line's last, one that meets the soft break) go
    /// through the rules one by one. The line being written is kept in local pointers: as stored properties, the
    /// compiler reloaded them after every byte written.
    private struct Writer {
        let bytes: UnsafeBufferPointer<UInt8>
        /// Where the next character goes.
        var next: UnsafeMutablePointer<UInt8>
        /// Whether the text goes on after `bytes` (see `write`).
        let open: Bool
        var quoted = 0
        var lines = 0
        var sawReturn = false

        /// Encodes the text line `bytes[start..<end]` (without its line end) onto an encoded line that already
        /// holds `column` characters, and returns the column it ends at. When `open`, the text line goes on after
        /// `end`: no CRLF, and its last byte here is not its last.
        @discardableResult
        mutating func line(_ start: Int, _ end: Int, column: Int, open: Bool) -> Int {
            lines &+= 1
            var out = next
            var encodedLine = out - column  // where the encoded line being written starts
            var index = start
            while index < end {
                var length = encodedLine.distance(to: out)
                if length > 0 {
                    // The run: as far as the line has room (75, keeping one for a soft break's "="), stopping
                    // before the text line's last byte, whose rules differ. None of it needs quoting by
                    // `choose`'s measure either.
                    let runEnd = Self.plainRun(
                        bytes, from: index, to: min(open ? end : end &- 1, index &+ 75 &- length), into: out)
                    out += runEnd &- index
                    length &+= runEnd &- index
                    index = runEnd
                    if index == end { break }  // an open line's run may reach its end
                }
                let byte = bytes[index]
                if byte >= 0x80 && length <= 72 {
                    // Non-ASCII (accented letters, each two bytes or more) is quoted wherever it stands; with room
                    // left for "=XX" and a soft break, none of the rules below can apply.
                    repeat {
                        Self.putQuoted(bytes[index], at: &out)
                        quoted &+= 1
                        length &+= 3
                        index &+= 1
                    } while index < end && bytes[index] >= 0x80 && length <= 72
                    continue
                }
                quoted &+= BodyEncoding.needsQuoting(byte) ? 1 : 0
                sawReturn = sawReturn || byte == 0x0D
                let isLast = !open && index == end &- 1
                var isQuoted = isQuoted(index, atLineStart: length == 0, isLast: isLast)
                // An encoded line holds 76 characters; all but the last piece need room for the soft break's "=".
                if length + (isQuoted ? 3 : 1) > (isLast ? 76 : 75) {
                    out[0] = UInt8(ascii: "=")
                    out[1] = 0x0D
                    out[2] = 0x0A
                    out += 3
                    encodedLine = out
                    isQuoted = self.isQuoted(index, atLineStart: true, isLast: isLast)
                }
                if isQuoted {
                    Self.putQuoted(byte, at: &out)
                } else {
                    out.pointee = byte
                    out += 1
                }
                index &+= 1
            }
            if open {
                next = out
                return encodedLine.distance(to: out)
            }
            out[0] = 0x0D
            out[1] = 0x0A
            next = out + 2
            return 0
        }

        private static let hexDigits: StaticString = "0123456789ABCDEF"

        @inline(__always)
        private static func putQuoted(_ byte: UInt8, at out: inout UnsafeMutablePointer<UInt8>) {
            out[0] = UInt8(ascii: "=")
            out[1] = hexDigits.utf8Start[Int(byte >> 4)]
            out[2] = hexDigits.utf8Start[Int(byte & 0x0F)]
            out += 3
        }

        /// Copies the bytes of `bytes` from `start` that stand for themselves inside a line to `out`, at most up to
        /// `limit`, and returns where they stop. Each 16 bytes are stored whole and tested at once, as two words
        /// (`notPlain`); what is stored past the run is written over.
        @inline(__always)
        private static func plainRun(
            _ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to limit: Int, into out: UnsafeMutablePointer<UInt8>
        ) -> Int {
            guard start < limit else { return start }
            let source = UnsafeRawPointer(bytes.baseAddress!)
            let destination = UnsafeMutableRawPointer(out) - start
            var index = start
            while index < limit {
                guard index &+ 16 <= bytes.count else {
                    guard isLiteralInside(bytes[index]) else { break }
                    destination.storeBytes(of: bytes[index], toByteOffset: index, as: UInt8.self)
                    index &+= 1
                    continue
                }
                let low = source.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                let high = source.loadUnaligned(fromByteOffset: index &+ 8, as: UInt64.self)
                destination.storeBytes(of: low, toByteOffset: index, as: UInt64.self)
                destination.storeBytes(of: high, toByteOffset: index &+ 8, as: UInt64.self)
                let lowMask = QuotedPrintable.notPlain(low)
                let highMask = QuotedPrintable.notPlain(high)
                guard lowMask | highMask != 0 else {
                    index &+= 16
                    continue
                }
                // The first byte that is not plain: the lowest flagged byte of the first word that has one.
                index &+= lowMask != 0 ? lowMask.trailingZeroBitCount >> 3 : 8 &+ highMask.trailingZeroBitCount >> 3
                break
            }
            return min(index, limit)
        }

        /// Bytes that stand for themselves anywhere on a line except at its start (RFC 2045 6.7 rule 2).
        @inline(__always)
        private static func isLiteral(_ byte: UInt8) -> Bool {
            byte >= 0x21 && byte <= 0x7E && byte != UInt8(ascii: "=")
        }

        /// Bytes that stand for themselves anywhere but at the start or the end of a line: the literal ones, and the
        /// space and tab, which must be quoted only at the end (rule 3).
        @inline(__always)
        private static func isLiteralInside(_ byte: UInt8) -> Bool {
            isLiteral(byte) || byte == 0x20 || byte == 0x09
        }

        /// Whether "From " starts at `index`. When the text is `open` and ends before that is settled, it may
        /// be: what follows is not known here, so the "F" is quoted.
        @inline(__always)
        private static func startsFrom(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, open: Bool) -> Bool {
            let rest: StaticString = "rom "
            for offset in 0..<4 {
                guard index &+ 1 &+ offset < bytes.count else { return open }
                if bytes[index &+ 1 &+ offset] != rest.utf8Start[offset] { return false }
            }
            return true
        }

        /// Whether one byte goes on the wire as "=XX" where it stands. A text line's end is a LF or a CR LF, so
        /// "rom " after an "F" never crosses one: looking 5 bytes ahead within the text is enough, but at the end of
        /// an open piece, whose continuation is not known here (`startsFrom`).
        @inline(__always)
        private func isQuoted(_ index: Int, atLineStart: Bool, isLast: Bool) -> Bool {
            let byte = bytes[index]
            if atLineStart {
                if byte == UInt8(ascii: ".") { return true }
                if byte == UInt8(ascii: "F") && Self.startsFrom(bytes, at: index, open: open) { return true }
            }
            if Self.isLiteral(byte) { return false }
            return !((byte == 0x20 || byte == 0x09) && !isLast)
        }
    }
}
