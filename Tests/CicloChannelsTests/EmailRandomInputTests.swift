import CicloChannels
import CicloTestSupport
import Foundation
import Testing

/// Seeded random inputs, rendered and parsed: whatever the mix, what was sent is what the parser reads back.
@Suite struct EmailRandomInputTests {
    /// Mixed scripts, emoji, runs of spaces and long words in random order: whatever the mix, the subject and the
    /// display name come back exactly, and every header line stays within 78 characters.
    @Test(arguments: 0..<16)
    func randomMixedSubjectsAndNamesRoundTrip(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let pieces = [
            "Promoção", "perché", "50%", "desconto", "🎉", "👩🏽‍💻", "夏のセール", "καλοκαίρι", " ", "  ", "=?", "?=",
            "a_b", "x=y", "\"quoted\"", "Rossi,", "Ελληνικά", String(repeating: "long", count: 30), "naïve",
        ]
        let subject = (0..<Int(random.next() % 24 + 1)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }
            .joined(separator: " ")
        let name = (0..<Int(random.next() % 6 + 1)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }
            .joined(separator: " ").split(separator: " ").joined(separator: " ")
        guard !subject.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        var message = try sampleMessage(subject: subject)
        message.to = [try EmailAddress(address: "maria@example.com", displayName: name)]
        let (envelope, parsed) = try renderAndParse(message)
        #expect(parsed.header("Subject") == subject.trimmingCharacters(in: .whitespaces))
        #expect(parsed.mailboxes("To").map(\.address) == ["maria@example.com"])
        let decodedName = parsed.mailboxes("To").first?.name ?? ""
        let toHeader = envelope.rawHeaders.components(separatedBy: "\r\nTo:")[1].components(
            separatedBy: "\r\nSubject:")[0]
        if toHeader.contains("?= =?") || toHeader.contains("?=\r\n =?") {
            // Python 3.11 puts a space between adjacent encoded-words in a phrase, against RFC 2047 6.2
            // (CPython gh-128110); the name must still match but for spaces.
            #expect(decodedName.filter { $0 != " " } == name.filter { $0 != " " })
        } else {
            #expect(decodedName == name)
        }
        #expect(parsed.maxHeaderLineLength <= 78)
        #expect(parsed.maxEncodedWordLength <= 75)
        #expect(parsed.defects == [])
    }

    /// Random bodies: lines from empty to thousands of characters, mixed scripts, spaces and tabs at line ends,
    /// dots and "From " at line starts, every kind of line end. Both parts come back as sent, line ends as LF.
    @Test(arguments: 0..<8)
    func randomBodiesComeBackExactly(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let pieces = ["a", "word ", "ção ", "perché", "夏のセール", "🎉", " ", "\t", "=", ".", "From ", "=20", "é"]
        let lineEnds = ["\n", "\r\n", "\r"]
        var text = ""
        for _ in 0..<Int(random.next() % 30 + 1) {
            let length = Int(random.next() % 4 == 0 ? random.next() % 1_500 : random.next() % 40)
            for _ in 0..<length { text += pieces[Int(random.next() % UInt64(pieces.count))] }
            text += lineEnds[Int(random.next() % UInt64(lineEnds.count))]
        }
        let (_, parsed) = try renderAndParse(sampleMessage(html: "<pre>\(text)</pre>", text: text))
        func canonical(_ value: String) -> String {
            value.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        }
        #expect(parsed.part("text/plain")?.content == canonical(text))
        #expect(parsed.part("text/html")?.content == canonical("<pre>\(text)</pre>"))
        #expect(parsed.maxLineLength <= 78)
        #expect(parsed.bareLineEnds == 0)
        #expect(parsed.defects == [])
    }
}
