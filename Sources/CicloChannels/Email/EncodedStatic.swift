/// The static text of a `SplicedBody` in quoted-printable, encoded once when the template is compiled, so that a
/// send encodes only its values (`SplicedBody.quotedPrintable(_:)`).
///
/// Each static segment is encoded as the start of an encoded line (column 0). A send writes it where the line it
/// continues has room for the segment's first encoded line; otherwise it first ends that line with a soft break
/// ("=" CRLF), so that the segment does start a line. Either way the encoding stays valid: a segment's other lines
/// start where they did, and its first line only quotes more than it must mid-line ("." and "From " are quoted at a
/// line's start). A segment that a value follows is encoded open (see `QuotedPrintable.write`): its last line stops
/// at 75 characters, leaving room for a soft break's "=", and a space at its end stays as it is, since the value or
/// that "=" follows it. The last segment ends its line as the whole text's encoding would.
///
/// Decoded, the part is the text the string path encodes. The raw lines may differ: where soft breaks fall, and a
/// "." or an "F" quoted at a segment's start (or an "F" ending a segment) that the string path writes mid-line as it
/// is.
struct EncodedStatic: Sendable {
    /// One per segment: a value (`value`, as `SplicedBody.Segment` numbers them), or static text (`value` -1),
    /// whose encoding is `bytes[start..<end]` and whose last line ends at `column` (0 after a CRLF).
    struct Piece: Sendable {
        var value: Int
        var start: Int, end: Int
        var column: Int
        /// The length of the first encoded line (without its CRLF, or its soft break's "="), and how it ends.
        var firstLine: Int
        var firstEnd: LineEnd
        /// Whether the encoding ends with a space or tab that the next piece must follow on the same line.
        var endsBlank: Bool
    }

    enum LineEnd: Sendable {
        /// With a line end of the text: the line may hold 76 characters.
        case hard
        /// With a soft break, or not at all (the segment's only line, which a value continues): 75, and the "=".
        case soft, open
    }

    /// Every static segment's encoding, in order.
    let bytes: [UInt8]
    /// One per segment of the body.
    let pieces: [Piece]
    /// Over the static text, what `BodyEncoding.choose` counts: the bytes that need quoting, and the line feeds.
    let quoted: Int
    let lineFeeds: Int
    /// How many times each value is spliced, for the room a send needs.
    let uses: [(value: Int, count: Int)]

    init(_ segments: [SplicedBody.Segment], _ raw: [UInt8]) {
        var bytes: [UInt8] = []
        var pieces: [Piece] = []
        var quoted = 0
        var lineFeeds = 0
        raw.withUnsafeBufferPointer { raw in
            for (index, segment) in segments.enumerated() {
                guard segment.value < 0, let base = raw.baseAddress else {
                    pieces.append(
                        Piece(
                            value: segment.value, start: bytes.count, end: bytes.count, column: 0, firstLine: 0,
                            firstEnd: .open, endsBlank: false))
                    continue
                }
                let text = UnsafeBufferPointer(start: base + segment.start, count: segment.end - segment.start)
                let bound = QuotedPrintable.bound(text.count)
                var written: QuotedPrintable.Piece?
                let encoded = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
                    let piece = QuotedPrintable.write(
                        text, lineEnd: .lf, open: index < segments.count - 1, to: buffer.baseAddress!)
                    count = buffer.baseAddress!.distance(to: piece.next)
                    precondition(count <= bound - 16, "quoted-printable bound exceeded")
                    written = piece
                }
                // A CR in the encoding is a line's end: one in the text is quoted. A "=" before it is a soft break.
                let lineEnd = encoded.firstIndex(of: 0x0D)
                let soft = lineEnd.map { $0 > 0 && encoded[$0 - 1] == UInt8(ascii: "=") } ?? false
                let open = index < segments.count - 1
                pieces.append(
                    Piece(
                        value: -1, start: bytes.count, end: bytes.count + encoded.count, column: written!.column,
                        firstLine: lineEnd.map { soft ? $0 - 1 : $0 } ?? encoded.count,
                        firstEnd: lineEnd == nil ? .open : soft ? .soft : .hard,
                        endsBlank: open && written!.column > 0 && (text.last == 0x20 || text.last == 0x09)))
                bytes.append(contentsOf: encoded)
                quoted += written!.quoted
                lineFeeds += written!.lines - 1
            }
        }
        self.bytes = bytes
        self.pieces = pieces
        self.quoted = quoted
        self.lineFeeds = lineFeeds
        var counts: [Int: Int] = [:]
        for piece in pieces where piece.value >= 0 { counts[piece.value, default: 0] += 1 }
        uses = counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

extension SplicedBody {
    /// The part's quoted-printable lines with `values`: the static text as encoded once, and each value encoded from
    /// the column where it falls (see `EncodedStatic`). Decoded, the same text as `text(values)`.
    ///
    /// Nil when the part must not be quoted-printable this way: when a value holds a CR (the text must first be made
    /// canonical), or when `BodyEncoding.choose` picks base64 for the whole text. `BodyEncoding.write` of
    /// `text(values)` then does what the string path does.
    func quotedPrintable(_ values: SpliceValues) -> [UInt8]? {
        if certainlyBase64(values) { return nil }
        var bound = encoded.bytes.count + 2
        for (value, uses) in encoded.uses {
            bound += uses * (QuotedPrintable.bound(values.ranges[value].count) + 6)
        }
        var splicer: Splicer?
        let out = [UInt8](unsafeUninitializedCapacity: bound) { buffer, written in
            encoded.bytes.withUnsafeBufferPointer { statics in
                encoded.pieces.withUnsafeBufferPointer { pieces in
                    values.bytes.withUnsafeBufferPointer { valueBytes in
                        values.ranges.withUnsafeBufferPointer { ranges in
                            values.inlineBytes.withUnsafeBufferPointer { inlineBytes in
                                values.inline.withUnsafeBufferPointer { inline in
                                    var writing = Splicer(
                                        next: buffer.baseAddress!, quoted: encoded.quoted,
                                        count: raw.count + encoded.lineFeeds, statics: statics, values: valueBytes,
                                        ranges: ranges, inlineBytes: inlineBytes, inline: inline)
                                    for piece in pieces { writing.write(piece) }
                                    if pieces.last.map({ $0.value >= 0 }) ?? true { writing.finish() }
                                    written = buffer.baseAddress!.distance(to: writing.next)
                                    splicer = writing
                                }
                            }
                        }
                    }
                }
            }
            precondition(written <= bound, "quoted-printable bound exceeded")
        }
        guard let splicer, !splicer.sawReturn,
            BodyEncoding.choose(quoted: splicer.quoted, of: splicer.count) == .quotedPrintable
        else { return nil }
        return out
    }

    /// Whether `BodyEncoding.choose` picks base64 for the text with `values` whatever they hold: the static text
    /// alone quotes more than a third of the most the whole text can count (a value byte counts at most twice, an
    /// LF becoming CRLF). Text mostly in Greek or Japanese is settled here, before an encoding it would throw away.
    func certainlyBase64(_ values: SpliceValues) -> Bool {
        var most = raw.count + encoded.lineFeeds
        for (value, uses) in encoded.uses { most += 2 * uses * values.ranges[value].count }
        return BodyEncoding.choose(quoted: encoded.quoted, of: most) == .base64
    }

    /// Writes one send's pieces through a pointer, with what `BodyEncoding.choose` needs counted on the way. The
    /// arrays are read through pointers: as arrays, each segment cost more than copying it.
    private struct Splicer {
        var next: UnsafeMutablePointer<UInt8>
        var column = 0
        var quoted: Int
        var count: Int
        var sawReturn = false
        let statics: UnsafeBufferPointer<UInt8>
        let values: UnsafeBufferPointer<UInt8>
        let ranges: UnsafeBufferPointer<Range<Int>>
        let inlineBytes: UnsafeBufferPointer<UInt8>
        let inline: UnsafeBufferPointer<SpliceValues.Inline>

        init(
            next: UnsafeMutablePointer<UInt8>, quoted: Int, count: Int, statics: UnsafeBufferPointer<UInt8>,
            values: UnsafeBufferPointer<UInt8>, ranges: UnsafeBufferPointer<Range<Int>>,
            inlineBytes: UnsafeBufferPointer<UInt8>, inline: UnsafeBufferPointer<SpliceValues.Inline>
        ) {
            self.next = next
            self.quoted = quoted
            self.count = count
            self.statics = statics
            self.values = values
            self.ranges = ranges
            self.inlineBytes = inlineBytes
            self.inline = inline
        }

        /// Whether the current line ends with a space or tab, which must not be left at the end of a line.
        var endsBlank = false

        @inline(__always)
        mutating func write(_ piece: EncodedStatic.Piece) {
            guard piece.value >= 0 else {
                if column > 0 {
                    // The segment's first line continues this one where it fits; else it starts the next.
                    let fits =
                        switch piece.firstEnd {
                        case .hard: column &+ piece.firstLine <= 76 && (piece.firstLine > 0 || !endsBlank)
                        case .soft, .open: column &+ piece.firstLine <= 75
                        }
                    if !fits { softBreak() }
                }
                copy(statics, piece.start..<piece.end)
                column = piece.firstEnd == .open ? column &+ piece.firstLine : piece.column
                endsBlank = piece.endsBlank
                return
            }
            let range = ranges[piece.value]
            guard !range.isEmpty else { return }
            let inline = inline[piece.value]
            if inline.fits && column &+ inline.range.count <= 75
                && (column > 0 || !SplicedBody.startsSpecially(values[range.lowerBound]))
            {
                // Encoded once for the send; here it fits on the line, away from its start.
                copy(inlineBytes, inline.range)
                column &+= inline.range.count
                quoted &+= inline.quoted
                count &+= range.count
            } else {
                let value = UnsafeBufferPointer(rebasing: values[range])
                // A line end right after a space would leave the space at the end of a line.
                if endsBlank && value[0] == 0x0A { softBreak() }
                let piece = QuotedPrintable.write(value, lineEnd: .lf, column: column, open: true, to: next)
                next = piece.next
                column = piece.column
                quoted &+= piece.quoted
                count &+= value.count &+ piece.lines &- 1
                sawReturn = sawReturn || piece.sawReturn
            }
            let last = values[range.upperBound &- 1]
            endsBlank = column > 0 && (last == 0x20 || last == 0x09)
        }

        /// Ends the text's last line, after a value (a static segment ended its own).
        mutating func finish() {
            if endsBlank { softBreak() }
            lineEnd()
        }

        @inline(__always)
        private mutating func copy(_ source: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
            guard let base = source.baseAddress, !range.isEmpty else { return }
            next.initialize(from: base + range.lowerBound, count: range.count)
            next += range.count
        }

        private mutating func softBreak() {
            next[0] = UInt8(ascii: "=")
            next[1] = 0x0D
            next[2] = 0x0A
            next += 3
            column = 0
            endsBlank = false
        }

        private mutating func lineEnd() {
            next[0] = 0x0D
            next[1] = 0x0A
            next += 2
        }
    }

    /// Whether a byte is quoted when it starts an encoded line: "." always, "F" when "From " may follow.
    fileprivate static func startsSpecially(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ".") || byte == UInt8(ascii: "F")
    }
}

extension SpliceValues {
    /// A value's quoted-printable form inside an encoded line, which holds wherever the value falls as long as the
    /// line has room for it and it is not at the line's start (where "." and "From " are quoted): each byte as
    /// itself, or "=XX". Only for values with no line end (nor CR) that could fit on one line; `range` is empty
    /// and `fits` false for the others, which are encoded where they fall.
    struct Inline {
        var range: Range<Int>
        var quoted: Int
        var fits: Bool
    }

    /// Works out `inline` for every value: most values are short and spliced many times (a first name in every
    /// paragraph), so each is encoded once and copied.
    mutating func encodeInline() {
        var inline: [Inline] = []
        inline.reserveCapacity(ranges.count)
        let hex: StaticString = "0123456789ABCDEF"
        // Written through a pointer: appending byte by byte cost more than the rest of the splicing.
        inlineBytes = bytes.withUnsafeBufferPointer { bytes in
            [UInt8](unsafeUninitializedCapacity: 75 * ranges.count) { out, written in
                for range in ranges {
                    let start = written
                    var quoted = 0
                    var fits = range.count <= 75
                    var index = range.lowerBound
                    while fits && index < range.upperBound {
                        let byte = bytes[index]
                        index &+= 1
                        if byte &- 0x20 <= 0x7E &- 0x20 && byte != UInt8(ascii: "=") || byte == 0x09 {
                            fits = written &- start < 75
                            guard fits else { break }
                            out[written] = byte
                            written &+= 1
                            continue
                        }
                        // "=XX" by RFC 2045's rules, and so also by `BodyEncoding.needsQuoting`'s measure.
                        quoted &+= 1
                        fits = byte != 0x0A && byte != 0x0D && written &- start &+ 3 <= 75
                        guard fits else { break }
                        out[written] = UInt8(ascii: "=")
                        out[written &+ 1] = hex.utf8Start[Int(byte >> 4)]
                        out[written &+ 2] = hex.utf8Start[Int(byte & 0x0F)]
                        written &+= 3
                    }
                    if !fits { written = start }
                    inline.append(Inline(range: start..<written, quoted: quoted, fits: fits))
                }
            }
        }
        self.inline = inline
    }
}
