import CicloTestSupport
import Foundation
import Testing

@testable import CicloChannels

/// The quoted-printable encoder against its rules written out plainly, byte by byte (`Reference`), over text built to
/// land every awkward byte at every column: lines of 70 to 80 bytes, "=" and non-ASCII where a soft break falls,
/// spaces and tabs before line ends, "." and "From " at the start of encoded lines, every kind of line end.
@Suite struct QuotedPrintableTests {
    /// The encoder's rules, one byte at a time, with no shortcut: what `QuotedPrintable.encode` must write.
    enum Reference {
        static func encode(_ bytes: [UInt8], crlf: Bool) -> [UInt8] {
            var lines: [ArraySlice<UInt8>] = []
            var start = 0
            var index = 0
            while index < bytes.count {
                let isCRLF = bytes[index] == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A
                let isEnd = crlf ? isCRLF : bytes[index] == 0x0A
                if isEnd {
                    lines.append(bytes[start..<index])
                    index += crlf ? 2 : 1
                    start = index
                } else {
                    index += 1
                }
            }
            lines.append(bytes[start..<bytes.count])
            var out: [UInt8] = []
            for line in lines {
                var length = 0
                for index in line.indices {
                    let byte = line[index]
                    let isLast = index == line.endIndex - 1
                    func isQuoted(atLineStart: Bool) -> Bool {
                        if atLineStart && (byte == UInt8(ascii: ".") || line[index...].starts(with: "From ".utf8)) {
                            return true
                        }
                        if byte >= 0x21 && byte <= 0x7E && byte != UInt8(ascii: "=") { return false }
                        return !((byte == 0x20 || byte == 0x09) && !isLast)
                    }
                    var quoted = isQuoted(atLineStart: length == 0)
                    if length + (quoted ? 3 : 1) > (isLast ? 76 : 75) {
                        out += Array("=\r\n".utf8)
                        length = 0
                        quoted = isQuoted(atLineStart: true)
                    }
                    if quoted {
                        out += Array(String(format: "=%02X", byte).utf8)
                        length += 3
                    } else {
                        out.append(byte)
                        length += 1
                    }
                }
                out += [0x0D, 0x0A]
            }
            return out
        }

        /// What `BodyEncoding.write` must give for `text`: the encoding chosen on the canonical bytes, its header,
        /// then the encoded canonical bytes.
        static func write(_ text: [UInt8]) -> [UInt8] {
            let canonical = text.withUnsafeBufferPointer { BodyEncoding.canonicalBytes($0) }
            let encoding = BodyEncoding.choose(for: canonical)
            var out = Array("[\(encoding.rawValue)]".utf8)
            switch encoding {
            case .quotedPrintable: out += encode(canonical, crlf: true)
            case .base64: out += base64(canonical)
            }
            return out
        }

        /// Base64 lines from Foundation's encoder: 76 characters and a CRLF each.
        static func base64(_ bytes: [UInt8]) -> [UInt8] {
            let encoded = Array(Data(bytes).base64EncodedString().utf8)
            return stride(from: 0, to: encoded.count, by: 76).flatMap {
                encoded[$0..<min($0 + 76, encoded.count)] + [0x0D, 0x0A]
            }
        }
    }

    static let pieces = [
        "a", "word ", "ção ", "perché", "é", "夏", "🎉", " ", "  ", "\t", "=", "==", ".", "From ", "F", "rom ",
        "=20", "\n", " \n", "\t\n", "=\n", "é\n", ".\n", "\r\n", " \r\n", "\r", "x\r", "\n\n",
    ]

    /// A line of `length` plain bytes and then `tail`: with `length` from 68 to 80, the tail meets the soft break
    /// at every column around 76.
    static func aligned(_ random: inout SplitMix64) -> String {
        let length = 68 + Int(random.next() % 13)
        let tails = ["=", " ", "\t", "é", "🎉", ".", "From x", "a", "==", " =", "é ", "\u{7F}", "\u{1}"]
        let tail = tails[Int(random.next() % UInt64(tails.count))]
        let ends = ["\n", "\r\n", "", "\r", " \n"]
        return String(repeating: "x", count: length) + tail + ends[Int(random.next() % UInt64(ends.count))]
    }

    static func randomText(_ random: inout SplitMix64) -> [UInt8] {
        var text = ""
        for _ in 0..<Int(random.next() % 40) {
            switch random.next() % 6 {
            case 0: text += aligned(&random)
            case 1: text += String(repeating: pieces[Int(random.next() % UInt64(pieces.count))], count: 40)
            default: text += pieces[Int(random.next() % UInt64(pieces.count))]
            }
        }
        return Array(text.utf8)
    }

    /// LF text as the renderers hand it over (`BodyEncoding.write`, which finds CRs itself), and canonical text
    /// (`QuotedPrintable.encode` with CRLF line ends, lone CRs and LFs inside lines): byte for byte the rules.
    @Test(arguments: 0..<16)
    func encoderIsTheRules(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var countedFirst = 0
        for _ in 0..<300 {
            let text = Self.randomText(&random)
            if text.withUnsafeBufferPointer(BodyEncoding.looksMostlyQuoted) { countedFirst += 1 }
            var written: [UInt8] = []
            text.withUnsafeBufferPointer { bytes in
                BodyEncoding.write(bytes, into: &written) { encoding, out in
                    out.append(contentsOf: Array("[\(encoding.rawValue)]".utf8))
                }
            }
            let expected = Reference.write(text)
            #expect(
                written == expected,
                "\(String(decoding: text, as: UTF8.self).debugDescription)\n\(String(decoding: written, as: UTF8.self))"
            )
            let canonical = text.withUnsafeBufferPointer { QuotedPrintable.encode($0, lineEnd: .crlf).encoded }
            #expect(canonical == Reference.encode(text, crlf: true))
            if written != expected { return }
        }
        #expect(countedFirst > 0, "some texts look mostly non-ASCII, and are counted before they are encoded")
    }

    /// The awkward places, read back by Python's `email` package: every encoded line within 76 characters, and the
    /// text exactly as sent.
    @Test func edgesDecodeInPython() throws {
        var lines: [String] = []
        for length in 70...78 {
            for tail in ["=", " ", "\t", "é", "🎉", ".", "From ", "x=", "  "] {
                lines.append(String(repeating: "y", count: length) + tail)
                lines.append(tail + String(repeating: "z", count: length))
            }
        }
        lines.append(String(repeating: "é", count: 200))
        lines.append(String(repeating: "a b", count: 100) + " ")
        let text = lines.joined(separator: "\n") + "\n"
        let (envelope, parsed) = try renderAndParse(sampleMessage(html: "<pre>\(text)</pre>", text: text))
        #expect(parsed.part("text/plain")?.content == text)
        #expect(parsed.part("text/plain")?.transferEncoding == "quoted-printable")
        #expect(parsed.part("text/html")?.content == "<pre>\(text)</pre>")
        let body = envelope.raw.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n")
        #expect(body.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 })
        #expect(parsed.defects == [])
    }
}
