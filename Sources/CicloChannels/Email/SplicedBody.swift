/// A body part compiled from a plain template (see `PlainTemplate`): its static text as bytes and as quoted-printable
/// encoded once (`EncodedStatic`), and the places where values go. A send writes the encoded static text and encodes
/// only its values (`quotedPrintable(_:)`); where that does not apply, it copies the values between the static bytes
/// into the part's text, which is never a `String`, and encodes that with `BodyEncoding.write`, as the string path
/// does.
struct SplicedBody: Sendable {
    /// A part as given: static text (as bytes), variables and slots.
    enum Piece {
        case text([UInt8])
        case variable(index: Int, escaped: Bool)
        /// Text the caller works out per send (a tracked link, the open pixel).
        case slot(Int)
    }

    /// Static text, `raw[start..<end]`, when `value` is negative; else the value `value` of `SpliceValues` (a
    /// variable, its escaped form from `variableCount` on, then the slots). Plain integers in one flat array: walking
    /// an array of enums holding arrays cost more in reference counting than the copying itself.
    struct Segment: Sendable {
        var value: Int
        var start: Int, end: Int
    }

    let segments: [Segment]
    let raw: [UInt8]
    /// The static text, quoted-printable.
    let encoded: EncodedStatic
    /// Whether the static text has a printable non-space ASCII character, so that the part cannot be blank.
    let hasVisibleText: Bool

    /// The compiled part, or nil when the static text has a CR (such templates take the string path, which has
    /// always canonicalised them).
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
        var raw: [UInt8] = []
        for part in parts {
            switch part {
            case .text(let bytes):
                if bytes.isEmpty { continue }
                if bytes.contains(0x0D) { return nil }
                if let last = segments.last, last.value < 0 {
                    // Static text follows static text: one segment, so that each starts where a value ended.
                    segments[segments.count - 1].end += bytes.count
                } else {
                    segments.append(Segment(value: -1, start: raw.count, end: raw.count + bytes.count))
                }
                raw.append(contentsOf: bytes)
            case .variable(let index, let escaped):
                segments.append(Segment(value: escaped ? variableCount + index : index, start: 0, end: 0))
            case .slot(let index):
                segments.append(Segment(value: 2 * variableCount + index, start: 0, end: 0))
            }
        }
        self.segments = segments
        self.raw = raw
        encoded = EncodedStatic(segments, raw)
        hasVisibleText = raw.contains { $0 > 0x20 && $0 < 0x7F }
    }

    /// The part's text with `values`, as UTF-8.
    func text(_ values: SpliceValues) -> [UInt8] {
        var length = raw.count
        for segment in segments where segment.value >= 0 { length += values.ranges[segment.value].count }
        return [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
            raw.withUnsafeBufferPointer { raw in
                values.bytes.withUnsafeBufferPointer { valueBytes in
                    values.ranges.withUnsafeBufferPointer { ranges in
                        guard let start = buffer.baseAddress else { return }
                        var position = start
                        for segment in segments {
                            let range = segment.value < 0 ? segment.start..<segment.end : ranges[segment.value]
                            guard !range.isEmpty else { continue }
                            let source = segment.value < 0 ? raw.baseAddress! : valueBytes.baseAddress!
                            position.initialize(from: source + range.lowerBound, count: range.count)
                            position += range.count
                        }
                        count = start.distance(to: position)
                    }
                }
            }
        }
    }
}

/// The values of one send as bytes, each once, in the order `SplicedBody.Segment` numbers them: the variables',
/// their HTML-escaped forms, then the slots'.
struct SpliceValues {
    var bytes: [UInt8] = []
    var ranges: [Range<Int>] = []
    /// Each value's quoted-printable form inside a line, when it has one (see `Inline`), in `inlineBytes`.
    var inline: [Inline] = []
    var inlineBytes: [UInt8] = []

    init(_ values: [String], escaped: [String], slots: [String] = []) {
        ranges.reserveCapacity(values.count + escaped.count + slots.count)
        var length = 0
        for value in values { length += value.utf8.count }
        for value in escaped { length += value.utf8.count }
        for slot in slots { length += slot.utf8.count }
        bytes.reserveCapacity(length)
        for value in values { add(value) }
        for value in escaped { add(value) }
        for slot in slots { add(slot) }
        encodeInline()
    }

    private mutating func add(_ value: String) {
        let start = bytes.count
        UTF8Text.append(value, to: &bytes)
        ranges.append(start..<bytes.count)
    }
}
