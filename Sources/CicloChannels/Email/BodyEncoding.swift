/// Content-Transfer-Encodings for text bodies (RFC 2045 section 6). Both keep every line at 76 characters or fewer,
/// well under SMTP's 998-octet limit, and both are 7-bit, so the message survives any relay.
///
/// Both write CRLF-terminated lines straight into the message's bytes: building a `String` per piece and per line
/// was most of the time spent rendering an email.
enum BodyEncoding: String {
    case quotedPrintable = "quoted-printable"
    case base64 = "base64"

    /// Quoted-printable for mostly-ASCII text (Portuguese, Italian, English...), which stays readable, and which
    /// spam filters expect: base64 around plain ASCII text scores as suspicious. Base64 once more than a third of
    /// the bytes need quoting (Greek, Japanese...), where quoted-printable would grow the text past base64's 4/3.
    static func choose(for bytes: [UInt8]) -> BodyEncoding {
        choose(quoted: bytes.reduce(0) { $0 + (needsQuoting($1) ? 1 : 0) }, of: bytes.count)
    }

    static func choose(quoted: Int, of count: Int) -> BodyEncoding {
        quoted * 3 <= count ? .quotedPrintable : .base64
    }

    /// Bytes that are not plain printable ASCII in the body: what `choose` counts. CR and LF are plain.
    @inline(__always)
    static func needsQuoting(_ byte: UInt8) -> Bool {
        // Unsigned wrap-around turns each range test into one comparison.
        byte &- 0x20 > 0x7E - 0x20 && byte != 0x09 && byte != 0x0D && byte != 0x0A || byte == UInt8(ascii: "=")
    }

    /// Chooses the encoding for `source`, UTF-8 text, and writes its encoded lines, each with its CRLF, to `out`
    /// after the headers that `header` returns for the chosen encoding. The same as `choose` and `encode` on the
    /// canonical bytes, but for text whose line ends are LF, the usual case, it encodes quoted-printable straight
    /// from the text, counting as it goes what `choose` needs, and so reads the text once.
    static func write(
        _ source: UnsafeBufferPointer<UInt8>, into out: inout [UInt8], header: (BodyEncoding, inout [UInt8]) -> Void
    ) {
        let attempt = QuotedPrintable.encode(source, lineEnd: .lf)
        guard attempt.sawReturn else {
            // Canonical form only adds a CR before each LF, which is never quoted.
            let encoding = choose(quoted: attempt.quoted, of: source.count + attempt.lines - 1)
            header(encoding, &out)
            switch encoding {
            case .quotedPrintable: out.append(contentsOf: attempt.encoded)
            case .base64: base64(canonicalBytes(source), into: &out)
            }
            return
        }
        let bytes = canonicalBytes(source)
        let encoding = choose(for: bytes)
        header(encoding, &out)
        encoding.encode(bytes, into: &out)
    }

    /// Encodes text whose line ends are already CRLF, appending the encoded lines, each with its CRLF, to `out`.
    func encode(_ bytes: [UInt8], into out: inout [UInt8]) {
        switch self {
        case .quotedPrintable: Self.quotedPrintable(bytes, into: &out)
        case .base64: Self.base64(bytes, into: &out)
        }
    }

    /// The text's line ends as CRLF, whatever they were (LF, CR or CRLF): the canonical form RFC 2046 4.1.1 asks for.
    static func canonicalBytes(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { canonicalBytes($0) }
    }

    static func canonicalBytes(_ source: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        // Each byte gives at most two (a lone CR gains its LF), and a final CR one more.
        [UInt8](unsafeUninitializedCapacity: source.count * 2 + 1) { buffer, count in
            var previous: UInt8 = 0
            for byte in source {
                if byte == 0x0A {
                    if previous != 0x0D {
                        buffer[count] = 0x0D
                        count += 1
                    }
                } else if previous == 0x0D {
                    buffer[count] = 0x0A  // a lone CR ends a line too
                    count += 1
                }
                buffer[count] = byte
                count += 1
                previous = byte
            }
            if previous == 0x0D {
                buffer[count] = 0x0A
                count += 1
            }
        }
    }

    /// Base64 in lines of 76 characters (RFC 2045 6.8), each followed by CRLF.
    static func base64(_ bytes: [UInt8], into out: inout [UInt8]) {
        var column = 0
        Base64.encode(bytes) { byte in
            out.append(byte)
            column += 1
            if column == 76 {
                out.append(0x0D)
                out.append(0x0A)
                column = 0
            }
        }
        if column > 0 {
            out.append(0x0D)
            out.append(0x0A)
        }
    }

    /// Quoted-printable lines without line ends (the form the tests read).
    static func quotedPrintableLines(_ bytes: [UInt8]) -> [String] {
        var out: [UInt8] = []
        quotedPrintable(bytes, into: &out)
        return lines(out)
    }

    private static func lines(_ out: [UInt8]) -> [String] {
        out.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map {
            String(decoding: $0.dropLast(), as: UTF8.self)
        }
    }

    /// Quoted-printable of CRLF-terminated text.
    static func quotedPrintable(_ bytes: [UInt8], into out: inout [UInt8]) {
        out.append(contentsOf: bytes.withUnsafeBufferPointer { QuotedPrintable.encode($0, lineEnd: .crlf).encoded })
    }
}
