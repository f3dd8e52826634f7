import CicloTestSupport
import Testing

@testable import CicloChannels

/// One segment-count expectation: the text, the encoding it should get, its length in units and its segments.
struct SegmentCase: Sendable, CustomTestStringConvertible {
    var name: String
    var text: String
    var encoding: SMSEncoding
    var units: Int
    var segments: Int
    var testDescription: String { name }
}

private func repeated(_ s: String, _ n: Int) -> String { String(repeating: s, count: n) }

@Suite struct SMSSegmentTests {
    static let cases: [SegmentCase] = [
        SegmentCase(name: "empty text is one message", text: "", encoding: .gsm7, units: 0, segments: 1),
        SegmentCase(name: "160 GSM-7", text: repeated("a", 160), encoding: .gsm7, units: 160, segments: 1),
        SegmentCase(name: "161 GSM-7", text: repeated("a", 161), encoding: .gsm7, units: 161, segments: 2),
        SegmentCase(name: "306 GSM-7", text: repeated("a", 306), encoding: .gsm7, units: 306, segments: 2),
        SegmentCase(name: "307 GSM-7", text: repeated("a", 307), encoding: .gsm7, units: 307, segments: 3),
        SegmentCase(name: "80 euro signs", text: repeated("€", 80), encoding: .gsm7, units: 160, segments: 1),
        SegmentCase(name: "81 euro signs", text: repeated("€", 81), encoding: .gsm7, units: 162, segments: 2),
        // 306 septets would fit two parts of 153, but the € at septets 153-154 moves whole to part two.
        SegmentCase(
            name: "extension character straddling 153", text: repeated("a", 152) + "€" + repeated("b", 152),
            encoding: .gsm7, units: 306, segments: 3),
        SegmentCase(
            name: "extension character ending part one", text: repeated("a", 151) + "€" + repeated("b", 153),
            encoding: .gsm7, units: 306, segments: 2),
        SegmentCase(name: "CR LF is two septets", text: "a\r\nb", encoding: .gsm7, units: 4, segments: 1),
        SegmentCase(name: "decomposed é composes to GSM-7", text: "e\u{301}", encoding: .gsm7, units: 1, segments: 1),
        SegmentCase(name: "70 UCS-2", text: repeated("ж", 70), encoding: .ucs2, units: 70, segments: 1),
        SegmentCase(name: "71 UCS-2", text: repeated("ж", 71), encoding: .ucs2, units: 71, segments: 2),
        SegmentCase(name: "134 UCS-2", text: repeated("ж", 134), encoding: .ucs2, units: 134, segments: 2),
        SegmentCase(name: "135 UCS-2", text: repeated("ж", 135), encoding: .ucs2, units: 135, segments: 3),
        SegmentCase(
            name: "35 emoji are 70 code units", text: repeated("😀", 35), encoding: .ucs2, units: 70, segments: 1),
        SegmentCase(
            name: "36 emoji are 72 code units", text: repeated("😀", 36), encoding: .ucs2, units: 72, segments: 2),
        // 134 code units would fit two parts of 67, but a surrogate pair never straddles: 33 emoji per part.
        SegmentCase(name: "67 emoji", text: repeated("😀", 67), encoding: .ucs2, units: 134, segments: 3),
        SegmentCase(
            name: "emoji straddling 67", text: repeated("ж", 66) + "😀" + repeated("ж", 66), encoding: .ucs2,
            units: 134, segments: 3),
        SegmentCase(
            name: "one á forces UCS-2", text: "Olá " + repeated("a", 80), encoding: .ucs2, units: 84, segments: 2),
    ]

    @Test(arguments: cases)
    func countsSegments(_ c: SegmentCase) {
        let sms = SMSText(c.text)
        #expect(sms.encoding == c.encoding)
        #expect(sms.units == c.units)
        #expect(sms.segments == c.segments)
    }

    @Test func defaultAlphabetIsTheGSM0338Table() {
        #expect(GSM7.defaultAlphabet.count == 128)
        #expect(GSM7.extensionTable.count == 10)
        let basic = "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà !\"#%&'()*+,-./:;<=>?09AZaz\n\r"
        for scalar in basic.unicodeScalars {
            #expect(GSM7.septets(for: scalar) == 1, "\(scalar.escaped(asASCII: true)) is in the default alphabet")
        }
        for scalar in "^{}\\[~]|€\u{0C}".unicodeScalars {
            #expect(GSM7.septets(for: scalar) == 2, "\(scalar.escaped(asASCII: true)) is in the extension table")
        }
        // Look-alikes that are not GSM-7: the escape itself, á, ç, backtick, tab, curly quote.
        for scalar in "\u{1B}áç`\t\u{2019}".unicodeScalars {
            #expect(GSM7.septets(for: scalar) == nil, "\(scalar.escaped(asASCII: true)) is not GSM-7")
        }
    }

    /// The Latin-1 reading of the bytes against the scalar-by-scalar path, over text near every boundary (153, 160,
    /// 67, 70 units) made of ASCII, Latin-1 inside and outside GSM-7, extension characters, and some text beyond
    /// U+00FF, with and without transliteration: the same text, encoding, units and segments.
    @Test(arguments: 0..<8)
    func latin1PathIsTheScalarPath(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let pieces = [
            "a", "Z", " ", "0", "@", "\n", "\r", "\u{1B}", "\t", "`", "é", "à", "Ç", "ñ", "á", "ç", "ã", "õ", "ß", "¿",
            "£", "¤", "\u{A0}", "\u{AD}", "€", "^", "{", "}", "[", "~", "]", "|", "\\", "\u{0C}", "’", "🎉", "Ж",
            "e\u{301}",
        ]
        // The last five pieces lie beyond U+00FF; half the texts leave them out, so that long Latin-1 texts, GSM-7
        // ones above all (packed into parts by `count`), are compared too.
        let latin1 = pieces.count - 5
        for round in 0..<400 {
            let target = [0, 60, 67, 70, 140, 153, 160, 306, 320][Int(random.next() % 9)]
            let choices = UInt64(round % 2 == 0 ? latin1 : pieces.count)
            var text = ""
            while text.unicodeScalars.count < target + Int(random.next() % 6) {
                let plain = random.next() % 4 != 0
                text += plain ? "a" : pieces[Int(random.next() % choices)]
            }
            for transliterate in [false, true] {
                let fast = SMSText(text, transliterate: transliterate)
                let general = SMSText(scalars: text, transliterate: transliterate)
                #expect(fast == general, "\(text.debugDescription) transliterate: \(transliterate)")
                if fast != general { return }
            }
        }
        // An extension character that would straddle a part's end starts the next part, on both paths.
        for (text, segments) in [
            (repeated("a", 152) + "{" + repeated("b", 152), 3), (repeated("a", 151) + "^" + repeated("b", 153), 2),
        ] {
            let sms = SMSText(text)
            #expect(sms == SMSText(scalars: text, transliterate: false))
            #expect(sms.encoding == .gsm7 && sms.segments == segments, "\(sms.units) units")
        }
    }
}
