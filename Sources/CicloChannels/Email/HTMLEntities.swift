/// HTML character references: numeric ones in full, and the named ones that email HTML actually uses (markup,
/// typography, currency, and the accented letters of western European languages). An unknown name is left as text.
enum HTMLEntities {
    /// The reference starting at `start` (an "&") within `bytes[..<limit]`, and the index after its ";", or nil if
    /// there is none. The ";" must come within 34 characters of the "&". Every name and number is ASCII, so a
    /// non-ASCII character before the ";" means there is no reference, wherever the ";" is.
    static func reference(
        in bytes: UnsafeBufferPointer<UInt8>, at start: Int, limit: Int
    ) -> (scalar: Unicode.Scalar, next: Int)? {
        var end = start + 1
        while true {
            guard end < limit, end - start < 34 else { return nil }
            let byte = bytes[end]
            if byte == UInt8(ascii: ";") { break }
            if byte >= 0x80 { return nil }
            end += 1
        }
        let body = String(decoding: UnsafeBufferPointer(rebasing: bytes[(start + 1)..<end]), as: UTF8.self)
        if body.hasPrefix("#x") || body.hasPrefix("#X") {
            return UInt32(body.dropFirst(2), radix: 16).map { (character($0), end + 1) }
        }
        if body.hasPrefix("#") {
            return UInt32(body.dropFirst(), radix: 10).map { (character($0), end + 1) }
        }
        return named[body].map { ($0, end + 1) }
    }

    /// `bytes[range]` with its references decoded, as a string.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var index = range.lowerBound
        while index < range.upperBound {
            if bytes[index] == UInt8(ascii: "&"),
                let (scalar, next) = reference(in: bytes, at: index, limit: range.upperBound)
            {
                out.append(contentsOf: String(scalar).utf8)
                index = next
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A numeric reference's character; NUL, surrogates and out-of-range values become U+FFFD, as in browsers.
    private static func character(_ value: UInt32) -> Unicode.Scalar {
        guard value != 0, let scalar = Unicode.Scalar(value) else { return "\u{FFFD}" }
        return scalar
    }

    private static let named: [String: Unicode.Scalar] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{00A0}", "ensp": "\u{2002}",
        "emsp": "\u{2003}", "thinsp": "\u{2009}", "zwnj": "\u{200C}", "zwj": "\u{200D}", "shy": "\u{00AD}",
        "copy": "©", "reg": "®", "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘",
        "rsquo": "’", "sbquo": "‚", "ldquo": "“", "rdquo": "”", "bdquo": "„", "laquo": "«", "raquo": "»",
        "lsaquo": "‹", "rsaquo": "›", "bull": "•", "middot": "·", "deg": "°", "times": "×", "divide": "÷",
        "plusmn": "±", "frac12": "½", "frac14": "¼", "frac34": "¾", "sup2": "²", "sup3": "³", "micro": "µ",
        "para": "¶", "sect": "§", "dagger": "†", "iexcl": "¡", "iquest": "¿", "ordf": "ª", "ordm": "º",
        "euro": "€", "pound": "£", "yen": "¥", "cent": "¢", "curren": "¤", "larr": "←", "rarr": "→",
        "uarr": "↑", "darr": "↓", "hearts": "♥", "check": "✓", "star": "☆",
        "Agrave": "À", "Aacute": "Á", "Acirc": "Â", "Atilde": "Ã", "Auml": "Ä", "Aring": "Å", "AElig": "Æ",
        "Ccedil": "Ç", "Egrave": "È", "Eacute": "É", "Ecirc": "Ê", "Euml": "Ë", "Igrave": "Ì", "Iacute": "Í",
        "Icirc": "Î", "Iuml": "Ï", "Ntilde": "Ñ", "Ograve": "Ò", "Oacute": "Ó", "Ocirc": "Ô", "Otilde": "Õ",
        "Ouml": "Ö", "Oslash": "Ø", "OElig": "Œ", "Ugrave": "Ù", "Uacute": "Ú", "Ucirc": "Û", "Uuml": "Ü",
        "Yacute": "Ý", "agrave": "à", "aacute": "á", "acirc": "â", "atilde": "ã", "auml": "ä", "aring": "å",
        "aelig": "æ", "ccedil": "ç", "egrave": "è", "eacute": "é", "ecirc": "ê", "euml": "ë", "igrave": "ì",
        "iacute": "í", "icirc": "î", "iuml": "ï", "ntilde": "ñ", "ograve": "ò", "oacute": "ó", "ocirc": "ô",
        "otilde": "õ", "ouml": "ö", "oslash": "ø", "oelig": "œ", "ugrave": "ù", "uacute": "ú", "ucirc": "û",
        "uuml": "ü", "yacute": "ý", "yuml": "ÿ", "szlig": "ß", "eth": "ð", "thorn": "þ",
    ]
}
