/// RFC 2047 encoded-words in UTF-8: how non-ASCII text travels in headers, which must be 7-bit.
///
/// Text is cut at grapheme-cluster boundaries, so an accented letter or an emoji with its modifiers stays within one
/// encoded-word; a cluster too big for a whole word (rare: long ZWJ sequences) is cut between scalars, which RFC 2047
/// allows because each word still holds whole characters of its charset.
enum EncodedWord {
    enum Scheme: String {
        case q = "Q"
        case b = "B"
    }

    /// `=?UTF-8?Q?` and `?=` around the payload.
    static let overhead = 12
    /// RFC 2047 section 2: an encoded-word is at most 75 characters.
    static let maxLength = 75
    /// The shortest word the encoder is ever asked for: one 4-byte scalar in Q is 12 characters of payload.
    static let minLength = overhead + 12

    /// Q while at most half the bytes need escaping (accented Latin text, which stays readable in the raw header,
    /// at a few characters' cost), B otherwise (emoji, Greek, Japanese), where Q would be up to three times longer.
    static func scheme(for bytes: [UInt8]) -> Scheme {
        let escaped = bytes.reduce(0) { $0 + (qLength(of: $1) == 1 ? 0 : 1) }
        return escaped * 2 <= bytes.count ? .q : .b
    }

    /// Bytes left as they are in Q: the set RFC 2047 section 5(3) allows in a phrase, which is safe in every header.
    static func isQLiteral(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "!"), UInt8(ascii: "*"), UInt8(ascii: "+"),
            UInt8(ascii: "-"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }

    private static func qLength(of byte: UInt8) -> Int {
        isQLiteral(byte) || byte == UInt8(ascii: " ") ? 1 : 3
    }

    static let qPrefix: [UInt8] = Array("=?UTF-8?Q?".utf8)
    static let bPrefix: [UInt8] = Array("=?UTF-8?B?".utf8)

    static func qEncode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var result: [UInt8] = []
        qEncode(bytes, into: &result)
        return String(decoding: result, as: UTF8.self)
    }

    static func qEncode<Bytes: Sequence<UInt8>>(_ bytes: Bytes, into result: inout [UInt8]) {
        for byte in bytes {
            if isQLiteral(byte) {
                result.append(byte)
            } else if byte == UInt8(ascii: " ") {
                // RFC 2047 4.2(2): "_" stands for a space, which cannot appear in a word.
                result.append(UInt8(ascii: "_"))
            } else {
                result.append(UInt8(ascii: "="))
                UTF8Text.appendHex(byte, to: &result)
            }
        }
    }

    /// Hands out the encoded-words for one run of text, each sized to the room the caller has on its line.
    ///
    /// The text is kept as one byte array walked by byte offset. Where every scalar is a grapheme cluster (Latin,
    /// Greek, most Cyrillic) a unit is one scalar, found from its lead byte; otherwise the cluster ends are worked out
    /// once. Payload lengths are summed as the walk goes, never over the same bytes twice: summing each candidate
    /// word from its start again made a subject's encoding quadratic in its length.
    struct Encoder {
        let scheme: Scheme
        private let bytes: [UInt8]
        /// Where the units end, as byte offsets, when some grapheme cluster spans several scalars (nil when each
        /// scalar is a cluster); a cluster too big for a whole word is later cut into its scalars here.
        private var unitEnds: [Int]?
        /// The next unit's index in `unitEnds`.
        private var unitIndex = 0
        /// The byte offset of the next unit.
        private var position = 0
        /// The payload length of everything from `position` on.
        private var remainingPayload: Int

        init(_ text: String) {
            self.init(utf8: Array(text.utf8))
        }

        /// The encoder for the text of these bytes (valid UTF-8, from a string).
        init(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) {
            self.init(utf8: Array(bytes))
        }

        private init(utf8 bytes: [UInt8]) {
            scheme = EncodedWord.scheme(for: bytes)
            self.bytes = bytes
            if !Self.scalarsAreClusters(bytes) {
                var ends: [Int] = []
                var end = 0
                for character in String(decoding: bytes, as: UTF8.self) {
                    end += character.utf8.count
                    ends.append(end)
                }
                unitEnds = ends
            }
            switch scheme {
            case .q: remainingPayload = bytes.reduce(0) { $0 + EncodedWord.qLength(of: $1) }
            case .b: remainingPayload = bytes.count
            }
        }

        /// Whether every scalar of this UTF-8 text is a grapheme cluster of its own: true when all are below U+0480
        /// (Latin, Greek, most of Cyrillic) but the combining marks U+0300 to U+036F and CR, the only ones in that
        /// range that join a neighbour. Unicode's grapheme-breaking rules cost more than the rest of encoding a
        /// Greek subject.
        static func scalarsAreClusters(_ bytes: [UInt8]) -> Bool {
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                // Continuation bytes (80 to BF) and leads below CC (to U+02FF) pass; CC is U+0300 to U+033F.
                if byte == 0x0D || byte == 0xCC || byte > 0xD1 { return false }
                // CD 80 to CD AF is U+0340 to U+036F; CD B0 onwards is Greek.
                if byte == 0xCD && (index + 1 >= bytes.count || bytes[index + 1] < 0xB0) { return false }
                index += 1
            }
            return true
        }

        var isFinished: Bool { position == bytes.count }

        /// Where the next unit ends.
        private var unitEnd: Int {
            guard let unitEnds else { return position + UTF8Text.scalarLength(lead: bytes[position]) }
            return unitEnds[unitIndex]
        }

        /// The length of one word holding all the rest of the text (which may exceed the 75 allowed).
        var remainingLength: Int {
            EncodedWord.overhead + (scheme == .q ? remainingPayload : Base64.length(of: remainingPayload))
        }

        /// The length of a word holding just the next character (grapheme cluster).
        var nextCharacterLength: Int {
            EncodedWord.overhead + payloadLength(position..<unitEnd)
        }

        /// The next encoded-word, at most `maxLength` characters long (from `minLength` to `EncodedWord.maxLength`).
        mutating func next(maxLength: Int) -> String {
            var word: [UInt8] = []
            next(maxLength: maxLength, into: &word)
            return String(decoding: word, as: UTF8.self)
        }

        /// Appends the next encoded-word to `out`: written in place, as building a string per word, payload and
        /// prefix cost more than sizing it.
        mutating func next(maxLength: Int, into out: inout [UInt8]) {
            precondition(maxLength >= EncodedWord.minLength && !isFinished)
            let payloadRoom = min(maxLength, EncodedWord.maxLength) - EncodedWord.overhead
            let start = position
            // Q: the payload so far; B: the bytes so far, whose base64 length is what must fit.
            var taken = 0
            while position < bytes.count {
                let end = unitEnd
                let unit = scheme == .q ? payloadLength(position..<end) : end - position
                let fits = scheme == .q ? taken + unit <= payloadRoom : Base64.length(of: taken + unit) <= payloadRoom
                if fits {
                    taken += unit
                    position = end
                    if unitEnds != nil { unitIndex += 1 }
                } else if position == start {
                    splitCurrentUnitIntoScalars()
                } else {
                    break
                }
            }
            remainingPayload -= taken
            out.append(contentsOf: scheme == .q ? EncodedWord.qPrefix : EncodedWord.bPrefix)
            if scheme == .q {
                EncodedWord.qEncode(bytes[start..<position], into: &out)
            } else {
                Base64.encode(bytes[start..<position]) { out.append($0) }
            }
            out.append(UInt8(ascii: "?"))
            out.append(UInt8(ascii: "="))
        }

        private func payloadLength(_ range: Range<Int>) -> Int {
            switch scheme {
            case .q: bytes[range].reduce(0) { $0 + EncodedWord.qLength(of: $1) }
            case .b: Base64.length(of: range.count)
            }
        }

        /// Cuts the next unit, a cluster, into its scalars (only clusters can be too big: one scalar always fits).
        private mutating func splitCurrentUnitIntoScalars() {
            let end = unitEnd
            var scalarEnds: [Int] = []
            var offset = position
            while offset < end {
                offset += UTF8Text.scalarLength(lead: bytes[offset])
                scalarEnds.append(offset)
            }
            precondition(scalarEnds.count > 1 && unitEnds != nil, "a single scalar always fits the minimum word")
            unitEnds!.replaceSubrange(unitIndex...unitIndex, with: scalarEnds)
        }
    }
}
