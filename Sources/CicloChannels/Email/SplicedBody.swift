/// A body part compiled from a plain template (see `PlainTemplate`): the static text between the tags with its
/// quoted-printable encoding worked out once, and the places where values go. A send copies the values between the
/// static bytes and encodes only what depends on them, so the part is never a `String` and most of its bytes are
/// never looked at one by one.
///
/// The output is byte for byte what `BodyEncoding.write` gives for the same text, because the encoder below makes
/// each decision of `QuotedPrintable.Writer` in the same order (the tests compare the two on generated text):
/// a byte's encoding depends on its place only at the start of an encoded line (`.`, `From `), at the end of a text
/// line (a space or tab) and where a soft break falls; everywhere else it is the byte's own "middle of a line"
/// token, which is what is stored.
///
/// Everything is kept in flat arrays of bytes and plain integers: walking arrays of structs holding arrays cost
/// more in reference counting than the encoding itself.
struct SplicedBody: Sendable {
    /// A part as given: static text (as bytes), variables and slots.
    enum Piece {
        case text([UInt8])
        case variable(index: Int, escaped: Bool)
        /// Text the caller works out per send (a tracked link, the open pixel).
        case slot(Int)
    }

    /// A segment: static text (`value < 0`), or the value `value` of `SpliceValues` (see `valueIndex`).
    struct Segment: Sendable {
        var value: Int
        /// Static text: its range in `raw` and its pieces (cut at line feeds) in `pieces`.
        var rawStart: Int, rawEnd: Int
        var firstPiece: Int, endPiece: Int
    }

    /// A line of static text (without its line feed): its range in `raw`, its tokens' range in `encoded`, and where
    /// the token of its last byte starts.
    struct Line: Sendable {
        var start: Int, end: Int
        var encodedStart: Int, lastToken: Int
    }

    let segments: [Segment]
    let pieces: [Line]
    let raw: [UInt8]
    /// Each static byte's token as it is written inside a line: itself, or `=XX`.
    let encoded: [UInt8]
    /// For each byte of `encoded`, the index in `raw` of the byte whose token it belongs to.
    let rawIndex: [Int32]
    /// Bytes of the static text that `BodyEncoding.choose` counts as needing quoting, and its line feeds.
    let staticQuoted: Int, staticLineBreaks: Int
    /// Whether the static text has a printable non-space ASCII character, so that the part cannot be blank.
    let hasVisibleText: Bool
    /// The number of variables, to place escaped values and slots in `SpliceValues`.
    let variableCount: Int

    /// The compiled part, or nil when the static text has a CR (its canonical form would then differ from the text
    /// itself; such templates take the string path).
    init?(_ template: PlainTemplate, variableCount: Int) {
        self.init(
            template.segments.map { segment in
                switch segment {
                case .text(let text): .text(Array(text.utf8))
                case .variable(let index, let escaped): .variable(index: index, escaped: escaped)
                }
            }, variableCount: variableCount)
    }

    init?(_ parts: [Piece], variableCount: Int) {
        var segments: [Segment] = []
        var lines: [Line] = []
        var raw: [UInt8] = []
        var encoded: [UInt8] = []
        var rawIndex: [Int32] = []
        for part in parts {
            switch part {
            case .text(let bytes):
                if bytes.isEmpty { continue }
                if bytes.contains(0x0D) { return nil }
                let first = lines.count
                let start = raw.count
                raw.append(contentsOf: bytes)
                var lineStart = start
                for index in start...raw.count where index == raw.count || raw[index] == 0x0A {
                    let encodedStart = encoded.count
                    var lastToken = encodedStart
                    for byte in lineStart..<index {
                        lastToken = encoded.count
                        let value = raw[byte]
                        if QuotedPrintable.isLiteralInside(value) {
                            encoded.append(value)
                        } else {
                            encoded.append(UInt8(ascii: "="))
                            encoded.append(QuotedPrintable.hexDigit(value >> 4))
                            encoded.append(QuotedPrintable.hexDigit(value & 0x0F))
                        }
                        rawIndex.append(contentsOf: repeatElement(Int32(byte), count: encoded.count - lastToken))
                    }
                    lines.append(Line(start: lineStart, end: index, encodedStart: encodedStart, lastToken: lastToken))
                    lineStart = index + 1
                }
                segments.append(
                    Segment(value: -1, rawStart: start, rawEnd: raw.count, firstPiece: first, endPiece: lines.count))
            case .variable(let index, let escaped):
                segments.append(
                    Segment(
                        value: escaped ? variableCount + index : index, rawStart: 0, rawEnd: 0, firstPiece: 0,
                        endPiece: 0))
            case .slot(let index):
                segments.append(
                    Segment(value: 2 * variableCount + index, rawStart: 0, rawEnd: 0, firstPiece: 0, endPiece: 0))
            }
        }
        self.segments = segments
        self.pieces = lines
        self.raw = raw
        self.encoded = encoded
        self.rawIndex = rawIndex
        staticQuoted = raw.reduce(0) { $0 + (BodyEncoding.needsQuoting($1) ? 1 : 0) }
        staticLineBreaks = raw.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        hasVisibleText = raw.contains { $0 > 0x20 && $0 < 0x7F }
        self.variableCount = variableCount
    }

    /// A part's text for one send: its bytes, the bytes that need quoting by `BodyEncoding.choose`'s measure, the
    /// line feeds, whether a value brought a CR, and where each segment starts in `bytes`.
    struct Text {
        var bytes: [UInt8]
        var quoted: Int
        var lineBreaks: Int
        var sawReturn: Bool
        var starts: [Int]
    }

    /// The part's text with `values`.
    func text(_ values: SpliceValues) -> Text {
        var length = raw.count
        var quoted = staticQuoted
        var lineBreaks = staticLineBreaks
        var sawReturn = false
        for segment in segments where segment.value >= 0 {
            let value = values.values[segment.value]
            length += value.range.count
            quoted += value.quoted
            lineBreaks += value.lineBreaks
            sawReturn = sawReturn || value.sawReturn
        }
        var starts: [Int] = []
        starts.reserveCapacity(segments.count)
        let bytes = [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
            raw.withUnsafeBufferPointer { raw in
                values.bytes.withUnsafeBufferPointer { valueBytes in
                    var position = 0
                    for segment in segments {
                        starts.append(position)
                        let source: UnsafeBufferPointer<UInt8>
                        if segment.value < 0 {
                            source = UnsafeBufferPointer(rebasing: raw[segment.rawStart..<segment.rawEnd])
                        } else {
                            source = UnsafeBufferPointer(rebasing: valueBytes[values.values[segment.value].range])
                        }
                        if let base = source.baseAddress, !source.isEmpty {
                            (buffer.baseAddress! + position).initialize(from: base, count: source.count)
                            position += source.count
                        }
                    }
                    count = position
                }
            }
        }
        return Text(bytes: bytes, quoted: quoted, lineBreaks: lineBreaks, sawReturn: sawReturn, starts: starts)
    }

    /// Writes the part, whose text `text(_:)` gave: the headers `header` writes for the chosen encoding, then the
    /// encoded text, as `BodyEncoding.write` would for the same text.
    func write(_ text: Text, into out: inout [UInt8], header: (BodyEncoding, inout [UInt8]) -> Void) {
        text.bytes.withUnsafeBufferPointer { bytes in
            guard !text.sawReturn else {
                BodyEncoding.write(bytes, into: &out, header: header)
                return
            }
            let encoding = BodyEncoding.choose(quoted: text.quoted, of: bytes.count + text.lineBreaks)
            header(encoding, &out)
            guard encoding == .quotedPrintable else {
                BodyEncoding.base64(BodyEncoding.canonicalBytes(bytes), into: &out)
                return
            }
            // The worst case, as `QuotedPrintable.encode` reserves it.
            let bound = 3 * bytes.count + bytes.count / 8 + 5 * (text.lineBreaks + 1) + 16
            let encodedPart = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
                encoded.withUnsafeBufferPointer { encoded in
                    rawIndex.withUnsafeBufferPointer { rawIndex in
                        var encoder = SplicingEncoder(bytes: bytes, output: buffer.baseAddress!)
                        for (number, segment) in segments.enumerated() {
                            let start = text.starts[number]
                            if segment.value >= 0 {
                                let end = number + 1 < segments.count ? text.starts[number + 1] : bytes.count
                                encoder.dynamic(start..<end)
                            } else {
                                for line in segment.firstPiece..<segment.endPiece {
                                    if line > segment.firstPiece { encoder.lineEnd() }
                                    encoder.staticLine(
                                        pieces[line], shift: start - segment.rawStart, encoded: encoded,
                                        rawIndex: rawIndex)
                                }
                            }
                        }
                        encoder.lineEnd()
                        count = encoder.count
                        precondition(count <= bound, "quoted-printable bound exceeded")
                    }
                }
            }
            out.append(contentsOf: encodedPart)
        }
    }
}

/// The values of one send as bytes, each once: the variables', their HTML-escaped forms, then the slots', with what
/// `SplicedBody.text` sums for the encoder.
struct SpliceValues {
    struct Value {
        var range: Range<Int>
        var quoted: Int
        var lineBreaks: Int
        var sawReturn: Bool
    }

    var bytes: [UInt8] = []
    var values: [Value] = []

    init(_ values: [String], escaped: [String], slots: [String] = []) {
        self.values.reserveCapacity(2 * values.count + slots.count)
        bytes.reserveCapacity(256)
        for value in values { add(value) }
        for value in escaped { add(value) }
        for slot in slots { add(slot) }
    }

    private mutating func add(_ value: String) {
        var value = value
        let start = bytes.count
        var quoted = 0
        var lineBreaks = 0
        var sawReturn = false
        value.withUTF8 { value in
            for byte in value {
                quoted &+= BodyEncoding.needsQuoting(byte) ? 1 : 0
                lineBreaks &+= byte == 0x0A ? 1 : 0
                sawReturn = sawReturn || byte == 0x0D
            }
            bytes.append(contentsOf: value)
        }
        values.append(Value(range: start..<bytes.count, quoted: quoted, lineBreaks: lineBreaks, sawReturn: sawReturn))
    }
}

/// Quoted-printable over a part's whole text (`bytes`, with LF line ends and no CR), written segment by segment
/// through a pointer into room reserved for the worst case: static text from its stored tokens, values byte by
/// byte. Every decision is `QuotedPrintable.Writer`'s: a token goes on the current encoded line if it fits in 75
/// characters (76 for a text line's last byte), else after a soft break; only the start of an encoded line and a
/// text line's last byte are encoded by looking at the byte's place.
struct SplicingEncoder {
    let bytes: UnsafeBufferPointer<UInt8>
    let output: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    /// The length of the encoded line being written.
    private var length = 0

    init(bytes: UnsafeBufferPointer<UInt8>, output: UnsafeMutablePointer<UInt8>) {
        self.bytes = bytes
        self.output = output
    }

    @inline(__always)
    private mutating func put(_ byte: UInt8) {
        output[count] = byte
        count += 1
    }

    /// Values' bytes: each on its own, with a short path for a byte that stands for itself in mid-line.
    mutating func dynamic(_ range: Range<Int>) {
        for index in range {
            let byte = bytes[index]
            if length > 0 && length < 75 && QuotedPrintable.isLiteralInside(byte) && index + 1 < bytes.count
                && bytes[index + 1] != 0x0A
            {
                put(byte)
                length += 1
            } else if byte == 0x0A {
                lineEnd()
            } else {
                one(index)
            }
        }
    }

    /// A line of static text that starts at `line.start + shift` in `bytes`: between the start of an encoded line
    /// and the text line's last byte, its stored tokens are copied as far as the encoded line has room.
    mutating func staticLine(
        _ line: SplicedBody.Line, shift: Int, encoded: UnsafeBufferPointer<UInt8>, rawIndex: UnsafeBufferPointer<Int32>
    ) {
        guard line.end > line.start else { return }
        var index = line.start + shift
        let last = line.end - 1 + shift
        var offset = line.encodedStart
        while index <= last {
            if length > 0 && index < last {
                var cut = offset + min(75 - length, line.lastToken - offset)
                // Never inside an `=XX`: "=" in the tokens only ever starts one.
                if cut < line.lastToken {
                    if cut - 1 >= offset && encoded[cut - 1] == UInt8(ascii: "=") {
                        cut -= 1
                    } else if cut - 2 >= offset && encoded[cut - 2] == UInt8(ascii: "=") {
                        cut -= 2
                    }
                }
                if cut > offset {
                    (output + count).initialize(from: encoded.baseAddress! + offset, count: cut - offset)
                    count += cut - offset
                    length += cut - offset
                    index = Int(rawIndex[cut]) + shift
                    offset = cut
                }
            }
            one(index)
            offset += encoded[offset] == UInt8(ascii: "=") ? 3 : 1
            index += 1
        }
    }

    mutating func lineEnd() {
        put(0x0D)
        put(0x0A)
        length = 0
    }

    /// One byte, as `QuotedPrintable.Writer` encodes it where it stands.
    private mutating func one(_ index: Int) {
        let byte = bytes[index]
        let isLast = index + 1 == bytes.count || bytes[index + 1] == 0x0A
        var isQuoted = quoted(index, atLineStart: length == 0, isLast: isLast)
        if length + (isQuoted ? 3 : 1) > (isLast ? 76 : 75) {
            put(UInt8(ascii: "="))
            put(0x0D)
            put(0x0A)
            length = 0
            isQuoted = quoted(index, atLineStart: true, isLast: isLast)
        }
        if isQuoted {
            put(UInt8(ascii: "="))
            put(QuotedPrintable.hexDigit(byte >> 4))
            put(QuotedPrintable.hexDigit(byte & 0x0F))
            length += 3
        } else {
            put(byte)
            length += 1
        }
    }

    /// `QuotedPrintable.Writer.isQuoted`, with the text line's end found by looking ahead: "rom " cannot hold a LF.
    private func quoted(_ index: Int, atLineStart: Bool, isLast: Bool) -> Bool {
        let byte = bytes[index]
        if atLineStart {
            if byte == UInt8(ascii: ".") { return true }
            if byte == UInt8(ascii: "F") && index + 5 <= bytes.count && bytes[index + 1] == UInt8(ascii: "r")
                && bytes[index + 2] == UInt8(ascii: "o") && bytes[index + 3] == UInt8(ascii: "m")
                && bytes[index + 4] == UInt8(ascii: " ")
            {
                return true
            }
        }
        if QuotedPrintable.isLiteral(byte) { return false }
        return !((byte == 0x20 || byte == 0x09) && !isLast)
    }
}
