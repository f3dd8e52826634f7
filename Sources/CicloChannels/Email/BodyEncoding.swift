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
    ///
    /// Text that looks mostly not ASCII (Greek, Japanese...) at its start or its middle, or that the caller knows to
    /// be (`likelyBase64`), is counted first instead: quoted-printable of it would be written only to be thrown away
    /// for base64, at several times base64's cost.
    static func write(
        _ source: UnsafeBufferPointer<UInt8>, into out: inout [UInt8], likelyBase64: Bool = false,
        header: (BodyEncoding, inout [UInt8]) -> Void
    ) {
        if likelyBase64 || looksMostlyQuoted(source) {
            let counted = count(source)
            if !counted.sawReturn, choose(quoted: counted.quoted, of: source.count + counted.lineFeeds) == .base64 {
                header(.base64, &out)
                base64(crlfBytes(source, lineFeeds: counted.lineFeeds), into: &out)
                return
            }
        }
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

    /// Whether more than a third of the first 256 bytes, or of the 256 in the middle, need quoting (an HTML part's
    /// head and style can fill its start): samples, only to pick which way `write` counts. What it chooses comes
    /// from the whole text either way.
    static func looksMostlyQuoted(_ source: UnsafeBufferPointer<UInt8>) -> Bool {
        func mostlyQuoted(_ sample: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
            var quoted = 0
            for byte in sample where needsQuoting(byte) { quoted += 1 }
            return quoted * 3 > sample.count
        }
        let middle = max(0, source.count / 2 - 128)
        return mostlyQuoted(source.prefix(256))
            || (source.count > 256 && mostlyQuoted(source[middle..<min(middle + 256, source.count)]))
    }

    /// What `choose` needs of LF text: the bytes that need quoting and the line feeds; and whether it holds a CR
    /// (its canonical form then differs by more than a CR before each LF).
    /// Eight bytes at a time: where a word holds no control character, its bytes to quote are those
    /// `QuotedPrintable.notPlain` marks; a word with one (a line feed, mostly) is counted byte by byte.
    static func count(_ source: UnsafeBufferPointer<UInt8>) -> (quoted: Int, lineFeeds: Int, sawReturn: Bool) {
        var quoted = 0, lineFeeds = 0, returns = 0
        func byByte(_ from: Int, _ to: Int) {
            for byte in source[from..<to] {
                quoted &+= needsQuoting(byte) ? 1 : 0
                lineFeeds &+= byte == 0x0A ? 1 : 0
                returns &+= byte == 0x0D ? 1 : 0
            }
        }
        guard let base = source.baseAddress else { return (0, 0, false) }
        var index = 0
        while index &+ 8 <= source.count {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
            // ASCII bytes below 0x20: high bit clear, and adding 0x60 to the low seven bits does not reach it.
            let controls = ~word & ~((word & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x6060_6060_6060_6060) & 0x8080_8080_8080_8080
            if controls == 0 {
                quoted &+= QuotedPrintable.notPlain(word.littleEndian).nonzeroBitCount
            } else {
                byByte(index, index &+ 8)
            }
            index &+= 8
        }
        byByte(index, source.count)
        return (quoted, lineFeeds, returns > 0)
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

    /// The canonical form of text with no CR and `lineFeeds` LFs: a CR before each LF, the lines between copied
    /// whole.
    static func crlfBytes(_ source: UnsafeBufferPointer<UInt8>, lineFeeds: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: source.count + lineFeeds) { buffer, count in
            guard let base = source.baseAddress else { return }
            var from = 0
            while from < source.count {
                let lineFeed = source[from...].firstIndex(of: 0x0A) ?? source.count
                let needed = lineFeed - from + (lineFeed < source.count ? 2 : 0)
                precondition(count + needed <= buffer.count, "line feeds miscounted")
                (buffer.baseAddress! + count).initialize(from: base + from, count: lineFeed - from)
                count += lineFeed - from
                if lineFeed < source.count {
                    buffer[count] = 0x0D
                    buffer[count + 1] = 0x0A
                    count += 2
                }
                from = lineFeed + 1
            }
            precondition(count == source.count + lineFeeds, "line feeds miscounted")
        }
    }

    /// Base64 in lines of 76 characters (RFC 2045 6.8), each followed by CRLF: 57 bytes a line, written through a
    /// pointer into room sized once (appending a character at a time cost five times as much).
    static func base64(_ bytes: [UInt8], into out: inout [UInt8]) {
        let lines = (bytes.count + 56) / 57
        let length = Base64.length(of: bytes.count) + 2 * lines
        let start = out.count
        out.reserveCapacity(start + length)
        out.append(contentsOf: repeatElement(0, count: length))
        out.withUnsafeMutableBufferPointer { buffer in
            bytes.withUnsafeBufferPointer { source in
                var next = buffer.baseAddress! + start
                var offset = 0
                while offset < source.count {
                    let end = min(offset + 57, source.count)
                    let line = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: source[offset..<end]))
                    next = Base64.write(line, to: next)
                    next[0] = 0x0D
                    next[1] = 0x0A
                    next += 2
                    offset = end
                }
                precondition(next == buffer.baseAddress! + start + length, "base64 length")
            }
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
