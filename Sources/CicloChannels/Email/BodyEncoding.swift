import Foundation

/// Content-Transfer-Encodings for text bodies (RFC 2045 section 6). Both keep every line at 76 characters or fewer,
/// well under SMTP's 998-octet limit, and both are 7-bit, so the message survives any relay.
enum BodyEncoding: String {
    case quotedPrintable = "quoted-printable"
    case base64 = "base64"

    /// Quoted-printable for mostly-ASCII text (Portuguese, Italian, English...), which stays readable, and which
    /// spam filters expect: base64 around plain ASCII text scores as suspicious. Base64 once more than a third of
    /// the bytes need quoting (Greek, Japanese...), where quoted-printable would grow the text past base64's 4/3.
    static func choose(for bytes: [UInt8]) -> BodyEncoding {
        let quoted = bytes.reduce(0) { $0 + (needsQuoting($1) ? 1 : 0) }
        return quoted * 3 <= bytes.count ? .quotedPrintable : .base64
    }

    /// Encodes text whose line ends are already CRLF; returns the lines of the encoded body, without line ends.
    func encode(_ bytes: [UInt8]) -> [String] {
        switch self {
        case .quotedPrintable: Self.quotedPrintableLines(bytes)
        case .base64: Self.base64Lines(bytes)
        }
    }

    /// The text's line ends as CRLF, whatever they were (LF, CR or CRLF): the canonical form RFC 2046 4.1.1 asks for.
    static func canonicalBytes(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + text.utf8.count / 32)
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte == 0x0A {
                if previous != 0x0D { bytes.append(0x0D) }
            } else if previous == 0x0D {
                bytes.append(0x0A)  // a lone CR ends a line too
            }
            bytes.append(byte)
            previous = byte
        }
        if previous == 0x0D { bytes.append(0x0A) }
        return bytes
    }

    /// Base64 in lines of 76 characters (RFC 2045 6.8).
    static func base64Lines(_ bytes: [UInt8]) -> [String] {
        let encoded = Array(Data(bytes).base64EncodedString().utf8)
        return stride(from: 0, to: encoded.count, by: 76).map { start in
            String(decoding: encoded[start..<min(start + 76, encoded.count)], as: UTF8.self)
        }
    }

    private static func needsQuoting(_ byte: UInt8) -> Bool {
        !((0x20...0x7E).contains(byte) || byte == 0x09 || byte == 0x0D || byte == 0x0A) || byte == UInt8(ascii: "=")
    }

    /// Quoted-printable (RFC 2045 6.7) with soft line breaks so that encoded lines stay at 76 characters; a long
    /// line of the text comes back whole when decoded.
    static func quotedPrintableLines(_ bytes: [UInt8]) -> [String] {
        var result: [String] = []
        for line in split(bytes) {
            var current = ""
            for index in 0..<line.count {
                let isLast = index == line.count - 1
                var piece = quotedPiece(line, at: index, lineStart: current.isEmpty, isLast: isLast)
                // An encoded line holds 76 characters; all but the last piece need room for the soft break's "=".
                if current.utf8.count + piece.utf8.count > (isLast ? 76 : 75) {
                    result.append(current + "=")
                    current = ""
                    piece = quotedPiece(line, at: index, lineStart: true, isLast: isLast)
                }
                current += piece
            }
            result.append(current)
        }
        return result
    }

    /// One byte as it goes on the wire. Besides what RFC 2045 requires (non-ASCII, "=", and a space or tab at the
    /// end of a line, which relays may strip), a "." or "From " at the start of a line is quoted, because some
    /// gateways still treat them specially (SMTP end of data, mbox separators).
    private static func quotedPiece(_ line: ArraySlice<UInt8>, at index: Int, lineStart: Bool, isLast: Bool) -> String {
        let byte = line[line.startIndex + index]
        let isSpace = byte == 0x20 || byte == 0x09
        var literal = (0x21...0x7E).contains(byte) && byte != UInt8(ascii: "=")
        if isSpace && !isLast { literal = true }
        if lineStart && byte == UInt8(ascii: ".") { literal = false }
        if lineStart && byte == UInt8(ascii: "F") && line.dropFirst(index).starts(with: Array("From ".utf8)) {
            literal = false
        }
        return literal ? String(UnicodeScalar(byte)) : "=" + EncodedWord.hex(byte)
    }

    /// The lines of CRLF-terminated text, without their line ends; a final CRLF gives a final empty line.
    private static func split(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == 0x0D && bytes[index + 1] == 0x0A {
                lines.append(bytes[start..<index])
                start = index + 2
                index += 2
            } else {
                index += 1
            }
        }
        lines.append(bytes[start...])
        return lines
    }
}
