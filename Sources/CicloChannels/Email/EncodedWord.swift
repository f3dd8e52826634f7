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
    static func scheme(for text: String) -> Scheme {
        let escaped = text.utf8.reduce(0) { $0 + (qLength(of: $1) == 1 ? 0 : 1) }
        return escaped * 2 <= text.utf8.count ? .q : .b
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

    static func qEncode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var result = ""
        for byte in bytes {
            if isQLiteral(byte) {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else if byte == UInt8(ascii: " ") {
                result += "_"  // RFC 2047 4.2(2): "_" stands for a space, which cannot appear in a word
            } else {
                result += "=" + hex(byte)
            }
        }
        return result
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    /// Hands out the encoded-words for one run of text, each sized to the room the caller has on its line.
    struct Encoder {
        let scheme: Scheme
        /// The text's units still to encode, as UTF-8: grapheme clusters, or scalars of a cluster that was too big.
        private var units: [[UInt8]]
        private var position = 0

        init(_ text: String) {
            scheme = EncodedWord.scheme(for: text)
            units = text.map { Array(String($0).utf8) }
        }

        var isFinished: Bool { position == units.count }

        /// The length of one word holding all the rest of the text (which may exceed the 75 allowed).
        var remainingLength: Int {
            EncodedWord.overhead + payloadLength(Array(units[position...].joined()))
        }

        /// The length of a word holding just the next character (grapheme cluster).
        var nextCharacterLength: Int {
            EncodedWord.overhead + payloadLength(units[position])
        }

        /// The next encoded-word, at most `maxLength` characters long (from `minLength` to `EncodedWord.maxLength`).
        mutating func next(maxLength: Int) -> String {
            precondition(maxLength >= EncodedWord.minLength && !isFinished)
            let payloadRoom = min(maxLength, EncodedWord.maxLength) - EncodedWord.overhead
            var bytes: [UInt8] = []
            while position < units.count {
                let candidate = bytes + units[position]
                if payloadLength(candidate) <= payloadRoom {
                    bytes = candidate
                    position += 1
                } else if bytes.isEmpty {
                    splitCurrentUnitIntoScalars()
                } else {
                    break
                }
            }
            let payload = scheme == .q ? qEncode(bytes) : base64(bytes)
            return "=?UTF-8?\(scheme.rawValue)?\(payload)?="
        }

        private func payloadLength(_ bytes: [UInt8]) -> Int {
            switch scheme {
            case .q: bytes.reduce(0) { $0 + EncodedWord.qLength(of: $1) }
            case .b: (bytes.count + 2) / 3 * 4
            }
        }

        private mutating func splitCurrentUnitIntoScalars() {
            let cluster = String(decoding: units[position], as: UTF8.self)
            let scalars = cluster.unicodeScalars.map { Array(String($0).utf8) }
            precondition(scalars.count > 1, "a single scalar always fits the minimum word")
            units.replaceSubrange(position...position, with: scalars)
        }

        private func base64(_ bytes: [UInt8]) -> String {
            BodyEncoding.base64Lines(bytes).joined()
        }
    }
}
