import Foundation

/// The GSM 03.38 7-bit default alphabet and its extension table, and a transliteration into them.
///
/// Everything works on Unicode scalars rather than `Character`s, because a grapheme cluster such as CR LF is two
/// GSM characters, and a letter with a combining accent is representable only once composed (see `SMSText`).
public enum GSM7 {
    /// The 128 code points of the default alphabet, in code order. Position 0x1B is the escape to the extension
    /// table, not a character, so it is left out of `septets(for:)`.
    public static let defaultAlphabet: [Unicode.Scalar] = Array(
        ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1B}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
            + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà").unicodeScalars)

    /// The characters of the extension table. Each is sent as the escape followed by one code, so it takes two septets.
    public static let extensionTable: [Unicode.Scalar] = Array("\u{0C}^{}\\[~]|€".unicodeScalars)

    private static let escape: Unicode.Scalar = "\u{1B}"
    private static let basicSet: Set<Unicode.Scalar> = Set(defaultAlphabet).subtracting([escape])
    private static let extensionSet: Set<Unicode.Scalar> = Set(extensionTable)

    /// Septets the scalar takes in GSM-7: 1 for the default alphabet, 2 for the extension table, nil if GSM-7 cannot
    /// carry it.
    public static func septets(for scalar: Unicode.Scalar) -> Int? {
        if scalar.value < 0x100 {
            let septets = latinSeptets[Int(scalar.value)]
            return septets == 0 ? nil : Int(septets)
        }
        if basicSet.contains(scalar) { return 1 }
        if extensionSet.contains(scalar) { return 2 }
        return nil
    }

    /// `septets(for:)` for U+0000 to U+00FF, where nearly all SMS text lies, read from the sets once rather than
    /// hashed per character; 0 means none.
    static let latinSeptets: [UInt8] = (0..<256).map { value in
        let scalar = Unicode.Scalar(UInt8(value))
        return basicSet.contains(scalar) ? 1 : extensionSet.contains(scalar) ? 2 : 0
    }

    /// Whether every scalar of the text is in the default alphabet or the extension table.
    public static func canEncode(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { septets(for: $0) != nil }
    }

    /// Replaces characters GSM-7 lacks with their nearest GSM-7 spelling: typographic punctuation with its plain
    /// form, accented letters with their base letter (ã → a, ç → c), odd spaces with a space. Characters that are
    /// already GSM-7 are kept, even where a plainer form exists (ò, Ç, é stay), and characters with no reasonable
    /// spelling (emoji, Cyrillic...) are kept too, so the caller can see the text still needs UCS-2.
    public static func transliterate(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if septets(for: scalar) != nil {
                out.append(scalar)
            } else if let replacement = replacements[scalar] {
                out.append(contentsOf: replacement.unicodeScalars)
            } else if let base = baseLetter(of: scalar) {
                out.append(base)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// The base letter of an accented letter, from its canonical decomposition (ã = a + combining tilde), when the
    /// base is in the default alphabet and the rest are combining marks.
    private static func baseLetter(of scalar: Unicode.Scalar) -> Unicode.Scalar? {
        let parts = Array(String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars)
        guard let first = parts.first, parts.count > 1, septets(for: first) == 1,
            parts.dropFirst().allSatisfy({ $0.properties.generalCategory == .nonspacingMark })
        else { return nil }
        return first
    }

    /// Characters whose decomposition does not lead to a GSM-7 letter: punctuation, spaces and a few letters.
    private static let replacements: [Unicode.Scalar: String] = {
        var table: [Unicode.Scalar: String] = [:]
        func map(_ scalars: String, to replacement: String) {
            for scalar in scalars.unicodeScalars { table[scalar] = replacement }
        }
        map("\u{2018}\u{2019}\u{201A}\u{201B}\u{2032}\u{00B4}`", to: "'")
        map("\u{201C}\u{201D}\u{201E}\u{201F}\u{2033}\u{00AB}\u{00BB}", to: "\"")
        map("\u{2039}", to: "<")
        map("\u{203A}", to: ">")
        map("\u{2010}\u{2011}\u{2012}\u{2013}\u{2014}\u{2015}\u{2212}", to: "-")
        map("\u{2026}", to: "...")
        map("\u{00A0}\u{2002}\u{2003}\u{2007}\u{2009}\u{200A}\u{202F}\u{205F}\u{3000}\t", to: " ")
        // Invisible characters would otherwise force UCS-2 for nothing.
        map("\u{00AD}\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}", to: "")
        map("\u{2022}", to: "-")
        map("œ", to: "oe")
        map("Œ", to: "OE")
        map("ł", to: "l")
        map("Ł", to: "L")
        map("đð", to: "d")
        map("ĐÐ", to: "D")
        map("þ", to: "th")
        map("Þ", to: "Th")
        map("ı", to: "i")
        return table
    }()
}
