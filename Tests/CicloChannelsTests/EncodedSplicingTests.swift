import CicloTestSupport
import Foundation
import Testing

@testable import CicloChannels

/// `SplicedBody.quotedPrintable`: static text encoded once, values encoded where they fall, a soft break where a
/// static segment's first line does not fit after a value. Its bytes may differ from encoding the whole text, so it
/// is checked by what a reader gets: decoded by `QuotedPrintableReading` (written here from RFC 2045, not from the
/// encoder), it is the text; and every line keeps the encoder's rules.
@Suite struct EncodedSplicingTests {
    /// Random static text and values (the splicing tests' pieces: "=", ".", "From ", spaces and tabs before line
    /// ends, non-ASCII, 2,000-character lines, empty values, adjacent values) at every column.
    @Test(arguments: 0..<24)
    func decodesToTheTextAndKeepsTheRules(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var encodedParts = 0, settledEarly = 0
        for _ in 0..<200 {
            let (template, values) = EmailSplicingTests.randomPart(&random)
            let body = try #require(SplicedBody(template, variableCount: values.count))
            let spliceValues = SpliceValues(values, escaped: template.escapedValues(values))
            let text = body.text(spliceValues)
            let canonical = text.withUnsafeBufferPointer { BodyEncoding.canonicalBytes($0) }
            if body.certainlyBase64(spliceValues) {
                settledEarly += 1
                #expect(BodyEncoding.choose(for: canonical) == .base64, "settled early, it must be what the text gets")
            }
            guard let encoded = body.quotedPrintable(spliceValues) else {
                // Declined only where the whole text's encoding would not be quoted-printable of the LF text.
                #expect(BodyEncoding.choose(for: canonical) == .base64, "\(String(decoding: text, as: UTF8.self))")
                continue
            }
            encodedParts += 1
            #expect(BodyEncoding.choose(for: canonical) == .quotedPrintable)
            let decoded = try QuotedPrintableReading.decode(encoded)
            #expect(decoded == canonical, "\(String(decoding: text, as: UTF8.self).debugDescription)")
            let broken = QuotedPrintableReading.brokenRules(encoded)
            #expect(broken.isEmpty, "\(broken)\n\(String(decoding: encoded, as: UTF8.self))")
            if decoded != canonical || !broken.isEmpty { return }
        }
        #expect(encodedParts > 50, "many generated parts are quoted-printable (the others hold much non-ASCII)")
        #expect(settledEarly > 0, "some are base64 on their static text alone")
    }

    /// A value that starts with a line end after static text ending in a space: the space must not end a line. A
    /// tab ending the value is followed by the next segment on its line.
    @Test func lineEndingValueAfterASpace() throws {
        let template = PlainTemplate(segments: [.text("Olá "), .variable(index: 0, escaped: false), .text(" fim")])
        let body = try #require(SplicedBody(template, variableCount: 1))
        let encoded = try #require(body.quotedPrintable(SpliceValues(["\nAna\t"], escaped: ["\nAna\t"])))
        #expect(String(decoding: encoded, as: UTF8.self) == "Ol=C3=A1 =\r\n\r\nAna\t fim\r\n")
        #expect(try QuotedPrintableReading.decode(encoded) == Array("Olá \r\nAna\t fim".utf8))
    }

    /// "F" at the start of a line, then a value: "rom " could follow, so the "F" is quoted. The value ends the text.
    @Test func fromAcrossAValueIsQuoted() throws {
        let template = PlainTemplate(segments: [.text("x\nF"), .variable(index: 0, escaped: false)])
        let body = try #require(SplicedBody(template, variableCount: 1))
        let encoded = try #require(body.quotedPrintable(SpliceValues(["rom me"], escaped: ["rom me"])))
        #expect(String(decoding: encoded, as: UTF8.self) == "x\r\n=46rom me\r\n")
        #expect(QuotedPrintableReading.brokenRules(encoded).isEmpty)
    }

    /// Static text mostly in Greek settles base64 before any encoding, unless the values are long enough to outweigh
    /// it; the check never settles what the whole text's count would not.
    @Test func staticTextSettlesBase64() throws {
        let template = PlainTemplate(segments: [
            .text("Καλοκαιρινές προσφορές για εσάς, "), .variable(index: 0, escaped: false), .text("!\n"),
        ])
        let body = try #require(SplicedBody(template, variableCount: 1))
        for (value, settled) in [("Άννα", true), ("Ana", true), (String(repeating: "a", count: 60), false)] {
            let values = SpliceValues([value], escaped: [value])
            #expect(body.certainlyBase64(values) == settled, "\(value)")
            #expect(body.quotedPrintable(values) == nil || !settled)
            let canonical = body.text(values).withUnsafeBufferPointer { BodyEncoding.canonicalBytes($0) }
            if settled { #expect(BodyEncoding.choose(for: canonical) == .base64) }
        }
        let latin = try #require(SplicedBody(
            PlainTemplate(segments: [.text("Olá "), .variable(index: 0, escaped: false)]), variableCount: 1))
        #expect(!latin.certainlyBase64(SpliceValues(["夏のセール"], escaped: ["夏のセール"])))
    }

    /// A value with a CR, or text that base64 suits better, is left to `BodyEncoding.write` of the whole text.
    @Test func declinesACarriageReturnAndBase64() throws {
        let template = PlainTemplate(segments: [.text("Olá "), .variable(index: 0, escaped: false)])
        let body = try #require(SplicedBody(template, variableCount: 1))
        #expect(body.quotedPrintable(SpliceValues(["a\r\nb"], escaped: ["a\r\nb"])) == nil)
        let japanese = String(repeating: "夏のセール", count: 10)
        #expect(body.quotedPrintable(SpliceValues([japanese], escaped: [japanese])) == nil)
        #expect(body.quotedPrintable(SpliceValues(["Ana"], escaped: ["Ana"])) != nil)
    }

    /// The reader itself: it refuses what is not quoted-printable, so that the checks above cannot pass on garbage.
    @Test func readerRefusesBadInput() {
        for bad in ["a=G1\r\n", "a=4\r\n", "a\nb\r\n", "ab"] {
            #expect(throws: QuotedPrintableReading.Malformed.self, "\(bad.debugDescription)") {
                try QuotedPrintableReading.decode(Array(bad.utf8))
            }
        }
        #expect(QuotedPrintableReading.brokenRules(Array("a \r\n".utf8)) == ["line 1 ends in white space"])
        #expect(QuotedPrintableReading.brokenRules(Array(".a\r\nFrom x\r\n".utf8)).count == 2)
        #expect(QuotedPrintableReading.brokenRules(Array((String(repeating: "a", count: 77) + "\r\n").utf8)).count == 1)
    }
}

/// Quoted-printable as a reader takes it (RFC 2045 6.7), for checking encoders by their output's meaning.
enum QuotedPrintableReading {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// The bytes of encoded lines, each ending in CRLF; the last CRLF is the one that ends the part. Soft breaks go,
    /// "=XX" becomes its byte, and every other CRLF is a line end of the text.
    static func decode(_ encoded: [UInt8]) throws -> [UInt8] {
        guard encoded.count >= 2, encoded.suffix(2).elementsEqual([0x0D, 0x0A]) else {
            throw Malformed(description: "does not end in CRLF")
        }
        let body = Array(encoded.dropLast(2))
        var out: [UInt8] = []
        var index = 0
        func hex(_ byte: UInt8) throws -> UInt8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: throw Malformed(description: "bad hex digit \(byte) at \(index)")
            }
        }
        while index < body.count {
            let byte = body[index]
            if byte == UInt8(ascii: "=") {
                if index + 1 == body.count {
                    index += 1  // a soft break whose CRLF is the one that ends the part
                    continue
                }
                guard index + 2 < body.count else { throw Malformed(description: "\"=\" cut short at \(index)") }
                if body[index + 1] == 0x0D && body[index + 2] == 0x0A {
                    index += 3
                    continue
                }
                out.append(try hex(body[index + 1]) << 4 | hex(body[index + 2]))
                index += 3
            } else if byte == 0x0D {
                guard index + 1 < body.count, body[index + 1] == 0x0A else {
                    throw Malformed(description: "a CR without LF at \(index)")
                }
                out += [0x0D, 0x0A]
                index += 2
            } else if byte == 0x0A {
                throw Malformed(description: "a LF without CR at \(index)")
            } else {
                out.append(byte)
                index += 1
            }
        }
        return out
    }

    /// The encoder's rules that a line breaks: at most 76 characters, no space or tab before its CRLF (relays strip
    /// them), no "." or "From " at its start (gateways treat them specially).
    static func brokenRules(_ encoded: [UInt8]) -> [String] {
        var broken: [String] = []
        var lines = encoded.split(separator: 0x0A, omittingEmptySubsequences: false).map { $0.dropLast() }
        if lines.last?.isEmpty == true { lines.removeLast() }
        for (number, line) in lines.enumerated() {
            if line.count > 76 { broken.append("line \(number + 1) has \(line.count) characters") }
            if let last = line.last, last == 0x20 || last == 0x09 {
                broken.append("line \(number + 1) ends in white space")
            }
            if line.first == UInt8(ascii: ".") || line.starts(with: "From ".utf8) {
                broken.append("line \(number + 1) starts with \".\" or \"From \"")
            }
        }
        return broken
    }
}
