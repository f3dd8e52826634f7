import Foundation

/// How an SMS text is encoded on the air.
public enum SMSEncoding: String, Sendable, Hashable, Codable, CaseIterable {
    /// The GSM 03.38 7-bit alphabet: 160 septets in one message, 153 per part when concatenated.
    case gsm7 = "GSM-7"
    /// UTF-16 (UCS-2 as networks call it): 70 code units in one message, 67 per part when concatenated.
    case ucs2 = "UCS-2"

    /// Units one unconcatenated message carries.
    public var singleSegmentCapacity: Int { self == .gsm7 ? 160 : 70 }
    /// Units each part of a concatenated message carries; the rest of the part is the concatenation header.
    public var concatenatedSegmentCapacity: Int { self == .gsm7 ? 153 : 67 }
}

/// A text as it will be sent by SMS: the final characters, their encoding and how many segments they take.
public struct SMSText: Sendable, Hashable {
    /// The text to send: composed (NFC), and transliterated when that was asked for and made it fit GSM-7.
    public let text: String
    public let encoding: SMSEncoding
    /// Septets for GSM-7 (an extension character counts two), UTF-16 code units for UCS-2 (an emoji counts two).
    public let units: Int
    /// The number of messages the network bills for this text.
    public let segments: Int

    /// Chooses the encoding and counts the segments of `text`.
    ///
    /// The text is first composed (NFC) so that an "e" followed by a combining acute counts as the GSM-7 "é" it
    /// displays as. With `transliterate`, characters GSM-7 lacks are replaced by their nearest GSM-7 spelling, but
    /// only if that makes the whole text GSM-7: a text that needs UCS-2 anyway keeps its original accents.
    public init(_ text: String, transliterate: Bool = false) {
        self = Self.latin1(text, transliterate: transliterate) ?? SMSText(scalars: text, transliterate: transliterate)
    }

    /// The general path, scalar by scalar, for any text (and for the tests, beside the Latin-1 one).
    init(scalars text: String, transliterate: Bool) {
        // Text below U+0300 (Latin, with its precomposed accented letters) is already composed: every canonical
        // composition involves a character from U+0300 up (a combining mark, a Hangul jamo, a vowel sign), and no
        // character below it decomposes into something that composes back differently. That skips Foundation's
        // normalisation for nearly every SMS.
        let composed =
            text.unicodeScalars.allSatisfy({ $0.value < 0x300 }) ? text : text.precomposedStringWithCanonicalMapping
        var chosen = composed
        if transliterate, !GSM7.canEncode(composed) {
            let plain = GSM7.transliterate(composed)
            if GSM7.canEncode(plain) { chosen = plain }
        }
        self.text = chosen
        if GSM7.canEncode(chosen) {
            encoding = .gsm7
            (units, segments) = Self.count(chosen.unicodeScalars.lazy.map { GSM7.septets(for: $0) ?? 1 }, in: .gsm7)
        } else {
            encoding = .ucs2
            (units, segments) = Self.count(chosen.unicodeScalars.lazy.map { $0.utf16.count }, in: .ucs2)
        }
    }

    private init(text: String, encoding: SMSEncoding, units: Int, segments: Int) {
        self.text = text
        self.encoding = encoding
        self.units = units
        self.segments = segments
    }

    /// The same answer as the general path, read from the UTF-8 bytes, for text whose characters all lie below
    /// U+0100 (ASCII and Latin-1: nearly every SMS in the languages Ciclo's users write), which is composed already,
    /// and in which every character is one UTF-16 unit. Nil for other text, or when transliteration could apply (a
    /// character GSM-7 lacks, with `transliterate`): the general path handles those. Walking the text's scalars
    /// three times cost more than the rest of composing an SMS.
    private static func latin1(_ text: String, transliterate: Bool) -> SMSText? {
        var storage = text
        return storage.withUTF8 { bytes -> SMSText? in
            var characters = 0
            var septets = 0
            var isGSM7 = true
            guard
                latin1Characters(bytes, { character in
                    characters &+= 1
                    let size = GSM7.latinSeptets[Int(character)]
                    isGSM7 = isGSM7 && size != 0
                    septets &+= Int(size)
                })
            else { return nil }
            if isGSM7 {
                var sizes: [Int] = []
                if septets > SMSEncoding.gsm7.singleSegmentCapacity {
                    sizes.reserveCapacity(characters)
                    _ = latin1Characters(bytes) { sizes.append(Int(GSM7.latinSeptets[Int($0)])) }
                }
                let segments = sizes.isEmpty ? 1 : count(sizes, in: .gsm7).segments
                return SMSText(text: text, encoding: .gsm7, units: septets, segments: segments)
            }
            if transliterate { return nil }
            // UCS-2, one unit per character, so no character can straddle two parts.
            let segments =
                characters <= SMSEncoding.ucs2.singleSegmentCapacity
                ? 1 : (characters + SMSEncoding.ucs2.concatenatedSegmentCapacity - 1)
                    / SMSEncoding.ucs2.concatenatedSegmentCapacity
            return SMSText(text: text, encoding: .ucs2, units: characters, segments: segments)
        }
    }

    /// Calls `each` with every character of UTF-8 `bytes` as its Latin-1 code, and returns false (at once) when one
    /// lies above U+00FF.
    private static func latin1Characters(_ bytes: UnsafeBufferPointer<UInt8>, _ each: (UInt8) -> Void) -> Bool {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x80 {
                each(byte)
                index &+= 1
            } else if (byte == 0xC2 || byte == 0xC3) && index + 1 < bytes.count {
                // U+0080 to U+00FF: two bytes, 110000xx 10xxxxxx (the string's UTF-8 is valid).
                each((byte & 0x03) << 6 | bytes[index + 1] & 0x3F)
                index &+= 2
            } else {
                return false
            }
        }
        return true
    }

    /// Packs characters of the given sizes into segments. A character is never split between two parts: a GSM-7
    /// escape and its code, or the two halves of a UTF-16 surrogate pair, must arrive in one part for the handset to
    /// decode them, so a character that would straddle a boundary starts the next part and leaves a unit unused.
    private static func count(_ sizes: some Collection<Int>, in encoding: SMSEncoding) -> (units: Int, segments: Int) {
        let total = sizes.reduce(0, +)
        // An empty text is still one (empty) message if it is sent at all.
        if total <= encoding.singleSegmentCapacity { return (total, 1) }
        let capacity = encoding.concatenatedSegmentCapacity
        var segments = 1
        var used = 0
        for size in sizes {
            if used + size > capacity {
                segments += 1
                used = 0
            }
            used += size
        }
        return (total, segments)
    }
}
