import Foundation
import Testing

@testable import CicloChannels

/// The building blocks on their own: the text derived from HTML, quoted-printable, encoded-words and Punycode.
@Suite struct EmailEncodingTests {
    @Test(arguments: [
        ("<p>One</p><p>Two<br>Three</p>", "One\n\nTwo\nThree"),
        ("  lots   of \n\t space  ", "lots of space"),
        ("<a href=\"https://x.example/a\">Shop now</a>", "Shop now (https://x.example/a)"),
        ("<a href='https://x.example/a'>https://x.example/a</a>", "https://x.example/a"),
        ("<a href=mailto:help@x.example>help@x.example</a>", "help@x.example"),
        ("<a href=\"#top\">Top</a> <a href=\"javascript:void(0)\">JS</a>", "Top JS"),
        ("<a href=\"https://x.example\"><img src=\"b.png\" alt=\"Banner\"></a>", "Banner (https://x.example)"),
        ("<a href=\"https://x.example\"><img src=\"b.png\"></a>", "https://x.example"),
        ("<!-- hidden --><!DOCTYPE html>Text<?xml x?>", "Text"),
        ("<HEAD><TITLE>t</TITLE><STYLE>.a{}</STYLE></HEAD><BODY>Upper</BODY>", "Upper"),
        ("<head><meta charset=utf-8><body>No head end", "No head end"),
        ("<script>if (a < b) { x() }</script>After", "After"),
        (
            "a &lt; b &amp;&amp; c &gt; d &quot;q&quot; &#39;s&#x27; &copy; &unknown; & alone",
            "a < b && c > d \"q\" 's' © &unknown; & alone"
        ),
        ("Pre&zwnj;&nbsp;&zwnj;&nbsp;header", "Pre header"),
        ("<table><tr><td>A</td><td>B</td></tr><tr><td>C</td></tr></table>", "A B\nC"),
        ("<ul><li>One</li><li>Two</li></ul>", "- One\n- Two"),
        ("1 < 2 and <3", "1 < 2 and <3"),
        ("<p>Promoção de verão</p><p>Perché aspettare?</p>", "Promoção de verão\n\nPerché aspettare?"),
    ])
    func htmlBecomesReadableText(html: String, text: String) {
        #expect(HTMLText.plainText(fromHTML: html) == text)
    }

    /// Where the encoded-word encoder skips Unicode's grapheme rules, Swift's own clusters agree: every scalar below
    /// U+0480 that the check lets through stays a cluster of its own beside any other it lets through (tried beside
    /// a sample of them, both ways round), and the joiners in or near that range are refused.
    @Test func scalarsTakenAsClustersAreClusters() {
        let allowed = (0..<0x480).compactMap(Unicode.Scalar.init).filter {
            EncodedWord.Encoder.scalarsAreClusters(Array(String($0).utf8))
        }
        #expect(allowed.count > 1_000)
        let neighbours = allowed.filter { $0.value % 7 == 0 } + ["\n", " ", "a", "ά", "Ж", "\u{00AD}", "\u{036F}"]
            .filter { EncodedWord.Encoder.scalarsAreClusters(Array(String($0).utf8)) }
        var joined: [String] = []
        for scalar in allowed {
            for other in neighbours {
                let pair = String(scalar) + String(other), reversed = String(other) + String(scalar)
                if pair.count != 2 { joined.append(pair.debugDescription) }
                if reversed.count != 2 { joined.append(reversed.debugDescription) }
            }
        }
        #expect(joined.isEmpty, "\(joined.prefix(10))")
        for joiner in ["\u{0301}", "\u{0345}", "\u{036F}", "\r", "\u{0483}", "e\u{0301}", "👍🏽", "\u{200D}"] {
            #expect(!EncodedWord.Encoder.scalarsAreClusters(Array(joiner.utf8)), "\(joiner.debugDescription)")
        }
        #expect(EncodedWord.Encoder.scalarsAreClusters(Array("Καλοκαίρι, Ана, verão".utf8)))
    }

    @Test func quotedPrintableSoftBreaksAtSeventySixAndDecodesBack() {
        let bytes = BodyEncoding.canonicalBytes(String(repeating: "aé=", count: 100) + " ")
        let lines = BodyEncoding.quotedPrintableLines(bytes)
        #expect(lines.allSatisfy { $0.utf8.count <= 76 })
        #expect(lines.dropLast().allSatisfy { $0.hasSuffix("=") })
        #expect(lines.last?.hasSuffix("=20") == true)
        // Every "=" is an escape with two hex digits, or the soft break at the very end: no escape is cut in two.
        for line in lines.map(Array.init) {
            for (index, character) in line.enumerated() where character == "=" && index < line.count - 1 {
                let escape = line.dropFirst(index + 1).prefix(2)
                #expect(escape.count == 2 && escape.allSatisfy(\.isHexDigit))
            }
        }
    }

    @Test func bodyEncodingFollowsTheShareOfNonASCII() {
        #expect(BodyEncoding.choose(for: Array("Promoção de verão: até 50% de desconto".utf8)) == .quotedPrintable)
        #expect(BodyEncoding.choose(for: Array("夏のセール：最大50%オフ".utf8)) == .base64)
    }

    @Test func encodedWordsNeverSplitACharacterAndStayWithinSeventyFive() {
        var encoder = EncodedWord.Encoder(String(repeating: "👨‍👩‍👧‍👦ção", count: 20))
        var words: [String] = []
        while !encoder.isFinished { words.append(encoder.next(maxLength: 75)) }
        #expect(words.allSatisfy { $0.utf8.count <= 75 && $0.hasPrefix("=?UTF-8?B?") && $0.hasSuffix("?=") })
        #expect(words.count > 1)
    }

    @Test(arguments: [
        ("bücher", "bcher-kva"), ("münchen", "mnchen-3ya"), ("例え", "r8jz45g"), ("テスト", "zckzah"),
        ("café", "caf-dma"), ("españa", "espaa-rta"),
    ])
    func punycodeMatchesRFC3492(label: String, encoded: String) {
        #expect(IDNA.punycode(Array(label.unicodeScalars)) == encoded)
    }

    @Test func datesAreRFC5322InUTC() {
        #expect(EmailRenderer.rfc5322Date(.init(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 +0000")
        #expect(
            EmailRenderer.rfc5322Date(.init(timeIntervalSince1970: 1_709_251_199)) == "Thu, 29 Feb 2024 23:59:59 +0000")
    }
}
