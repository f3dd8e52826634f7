import CicloChannels
import CicloTestSupport
import Foundation
import Testing

/// Rendered emails as an independent parser reads them: headers, encodings, both parts, line lengths, no defects.
@Suite struct EmailRenderingTests {
    @Test func aPlainCampaignEmailParsesCleanlyWithEveryHeader() throws {
        let (envelope, parsed) = try renderAndParse(sampleMessage())
        #expect(parsed.defects == [])
        #expect(parsed.contentType == "multipart/alternative")
        #expect(parsed.mailboxes("From") == [.init(name: "Ciclo Store", address: "news@ciclo.example")])
        #expect(parsed.mailboxes("Reply-To") == [.init(name: "", address: "care@ciclo.example")])
        #expect(parsed.mailboxes("To") == [.init(name: "Maria Silva", address: "maria.silva@example.com")])
        #expect(parsed.header("Subject") == "Your July picks")
        #expect(parsed.header("Date") == "Tue, 01 Jul 2025 09:30:00 +0000")
        #expect(parsed.date == "2025-07-01T09:30:00+00:00")
        #expect(parsed.header("MIME-Version") == "1.0")
        #expect(parsed.header("X-Campaign") == "summer-2025")
        #expect(parsed.header("Message-ID") == "<\(envelope.messageID)>")
        for name in ["Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type"] {
            #expect(parsed.headerCount(name) == 1, "\(name) appears once")
        }
        #expect(envelope.from == "news@ciclo.example")
        #expect(envelope.recipients == ["maria.silva@example.com"])
        #expect(parsed.bareLineEnds == 0)
        #expect(parsed.nonASCIIBytes == 0)
        #expect(parsed.maxHeaderLineLength <= 78)
    }

    @Test func theTextPartComesFirstThenTheHTMLPart() throws {
        let html = "<p>Olá <b>Maria</b>,</p><p>Veja as novidades.</p>"
        let (_, parsed) = try renderAndParse(sampleMessage(html: html, text: "Olá Maria,\n\nVeja as novidades."))
        #expect(parsed.parts.map(\.contentType) == ["text/plain", "text/html"])
        #expect(parsed.parts.map(\.charset) == ["utf-8", "utf-8"])
        #expect(parsed.parts.map(\.transferEncoding) == ["quoted-printable", "quoted-printable"])
        #expect(parsed.part("text/plain")?.content == "Olá Maria,\n\nVeja as novidades.")
        #expect(parsed.part("text/html")?.content == html)
        #expect(parsed.defects == [])
    }

    @Test(arguments: [
        "Promoção de verão: até 50% de desconto",
        "Offerta speciale: perché aspettare?",
        "🎉 Your reward is here 🎁 👨‍👩‍👧‍👦",
        "Ελληνικά: καλοκαιρινές προσφορές για εσάς",
        "夏のセール：最大50%オフ、今すぐチェック！限定アイテムも多数ご用意しています",
        "Spaces  kept,  ção  here   and =?not-a-word?= too",
    ])
    func nonASCIISubjectsAreEncodedWordsThatDecodeToTheOriginal(subject: String) throws {
        let (envelope, parsed) = try renderAndParse(sampleMessage(subject: subject))
        #expect(parsed.header("Subject") == subject)
        #expect(parsed.defects == [])
        #expect(parsed.nonASCIIBytes == 0)
        #expect(parsed.maxEncodedWordLength <= 75)
        #expect(parsed.maxHeaderLineLength <= 78)
        #expect(envelope.rawHeaders.contains("=?UTF-8?"))
    }

    @Test func mostlyASCIISubjectsUseQAndKeepPlainWordsReadable() throws {
        let (envelope, _) = try renderAndParse(sampleMessage(subject: "Promoção de verão: até 50% de desconto"))
        #expect(envelope.rawHeaders.contains("Subject: =?UTF-8?Q?Promo=C3=A7=C3=A3o?= de =?UTF-8?Q?ver=C3=A3o"))
        #expect(envelope.rawHeaders.contains("=?UTF-8?Q?ver=C3=A3o=3A_at=C3=A9?=\r\n 50% de desconto"))
    }

    @Test func emojiSubjectsUseB() throws {
        let (envelope, _) = try renderAndParse(sampleMessage(subject: "🎉🎁🎈"))
        #expect(envelope.rawHeaders.contains("Subject: =?UTF-8?B?"))
    }

    @Test func aLongSubjectIsFoldedAndUnfoldsToTheOriginal() throws {
        let subject = Array(repeating: "Promoção imperdível de verão com até 50% de desconto", count: 12)
            .joined(separator: " – ")
        let (envelope, parsed) = try renderAndParse(sampleMessage(subject: subject))
        #expect(parsed.header("Subject") == subject)
        #expect(parsed.maxHeaderLineLength <= 78)
        #expect(parsed.maxEncodedWordLength <= 75)
        #expect(envelope.rawHeaders.components(separatedBy: "\r\n").count > 12)
        #expect(parsed.defects == [])
    }

    @Test func aSubjectWithOneHugeWordStillFitsTheLineLimit() throws {
        let subject = String(repeating: "x", count: 2_500)
        let (_, parsed) = try renderAndParse(sampleMessage(subject: subject))
        #expect(parsed.header("Subject") == subject)
        #expect(parsed.maxLineLength <= 998)
        #expect(parsed.defects == [])
    }

    @Test func nonASCIIDisplayNamesAreEncodedAndDecodeBack() throws {
        var message = try sampleMessage()
        message.from = try EmailAddress(address: "ofertas@loja.example", displayName: "Loja São João 🛍️")
        message.to = [
            try EmailAddress("\"Rossi, Giulia\" <giulia@example.it>"),
            try EmailAddress(address: "ana@example.pt", displayName: "Ana Conceição"),
        ]
        let (envelope, parsed) = try renderAndParse(message)
        #expect(parsed.mailboxes("From") == [.init(name: "Loja São João 🛍️", address: "ofertas@loja.example")])
        #expect(
            parsed.mailboxes("To") == [
                .init(name: "Rossi, Giulia", address: "giulia@example.it"),
                .init(name: "Ana Conceição", address: "ana@example.pt"),
            ])
        #expect(envelope.recipients == ["giulia@example.it", "ana@example.pt"])
        #expect(parsed.defects == [])
        #expect(parsed.nonASCIIBytes == 0)
    }

    @Test func aTwoThousandCharacterLineComesBackIntactInBothParts() throws {
        let line = String((0..<250).map { "word\($0 % 10)ção" }.joined(separator: " ").prefix(2_000))
        #expect(line.count == 2_000)
        let html = "<p>\(line)</p>"
        let (_, parsed) = try renderAndParse(sampleMessage(html: html, text: String(line)))
        #expect(parsed.part("text/plain")?.content == line)
        #expect(parsed.part("text/html")?.content == html)
        #expect(parsed.maxLineLength <= 78)
        #expect(parsed.defects == [])
    }

    @Test func mostlyNonASCIIBodiesAreBase64WithShortLines() throws {
        let text = String(repeating: "日本語のテキスト、とても長い行です。", count: 120)
        let (_, parsed) = try renderAndParse(sampleMessage(html: "<p>\(text)</p>", text: text))
        #expect(parsed.parts.map(\.transferEncoding) == ["base64", "base64"])
        #expect(parsed.part("text/plain")?.content == text)
        #expect(parsed.maxLineLength <= 78)
        #expect(parsed.defects == [])
    }

    @Test func bodyLineEndsBecomeCRLFAndDangerousLineStartsSurvive() throws {
        let text = "one\ntwo\r\nthree\rfour\n.\nFrom here\ntrailing space \nend"
        let (envelope, parsed) = try renderAndParse(sampleMessage(text: text))
        #expect(parsed.bareLineEnds == 0)
        #expect(parsed.part("text/plain")?.content == "one\ntwo\nthree\nfour\n.\nFrom here\ntrailing space \nend")
        #expect(envelope.raw.contains("\r\n=2E\r\n"))
        #expect(envelope.raw.contains("\r\n=46rom here\r\n"))
        #expect(envelope.raw.contains("trailing space=20\r\n"))
    }

    @Test func withoutTextTheTextPartIsDerivedFromTheHTML() throws {
        let html = """
            <html><head><title>Hidden</title><style>p { color: red }</style></head>
            <body><h1>Summer &amp; sun</h1><p>Save&nbsp;50% on <a href="https://shop.example/s?a=1&amp;b=2">our
            picks</a>.</p><script>track()</script><ul><li>Hats</li><li>Caf&eacute; &#x1F600;</li></ul></body></html>
            """
        let (_, parsed) = try renderAndParse(sampleMessage(html: html, text: nil))
        let expected = "Summer & sun\n\nSave 50% on our picks (https://shop.example/s?a=1&b=2).\n\n- Hats\n- Café 😀"
        #expect(parsed.part("text/plain")?.content == expected)
        #expect(parsed.defects == [])
    }

    @Test func listUnsubscribeOffersOneClickAndMailto() throws {
        let (_, parsed) = try renderAndParse(sampleMessage())
        #expect(
            parsed.header("List-Unsubscribe")
                == "<https://ciclo.example/u/7f3a?c=42>, <mailto:unsubscribe@ciclo.example?subject=unsubscribe>")
        #expect(parsed.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click")
        #expect(parsed.defects == [])
    }

    @Test func oneClickIsOnlyOfferedWithAnHTTPSURL() throws {
        let mailtoOnly = try renderAndParse(sampleMessage(unsubscribe: ListUnsubscribe(mailto: "leave@ciclo.example")))
            .1
        #expect(mailtoOnly.header("List-Unsubscribe") == "<mailto:leave@ciclo.example>")
        #expect(mailtoOnly.header("List-Unsubscribe-Post") == nil)
        let none = try renderAndParse(sampleMessage(unsubscribe: nil)).1
        #expect(none.header("List-Unsubscribe") == nil)
    }

    @Test func theSameIdempotencyKeyGivesTheSameMessageIDAndBytes() throws {
        let first = try render(sampleMessage(idempotencyKey: "send-9f1c"))
        let retry = try render(sampleMessage(idempotencyKey: "send-9f1c"))
        let other = try render(sampleMessage(idempotencyKey: "send-9f1d"))
        #expect(first.messageID == retry.messageID)
        #expect(first.message == retry.message)
        #expect(first.messageID != other.messageID)
        #expect(first.messageID == EmailRenderer.messageID(idempotencyKey: "send-9f1c", domain: "mail.ciclo.example"))
        let (local, domain) = (first.messageID.split(separator: "@")[0], first.messageID.split(separator: "@")[1])
        #expect(local.count == 32 && local.allSatisfy(\.isHexDigit))
        #expect(domain == "mail.ciclo.example")
    }

    @Test func theMessageIDDomainDefaultsToTheSendersDomain() throws {
        let envelope = try EmailRenderer().render(sampleMessage())
        #expect(envelope.messageID.hasSuffix("@ciclo.example"))
    }
}
