import CicloTestSupport
import Crypto
import Foundation
import Testing

@testable import CicloChannels

/// The compiled-template email path (`EmailRenderer.render(_:values:sender:...)`) against the straightforward one
/// (parts as strings, `EmailMessage`, `render(_:)`): the same message over generated templates and values (the same
/// headers byte for byte, and each part the same once decoded), and the splicing of values into text.
@Suite struct EmailSplicingTests {
    static let pieces = [
        "a", "word ", "ção ", "perché", "Olá", "Até 50%", "夏のセール", "🎉", "👩🏽‍💻", " ", "  ", "\t", "=", "==", ".",
        "From ", "=20", "é", "x", "<b>", "&amp;", "\n", "\n\n", " \n", "\t\n", ".\n", "F", "rom ", "☀️",
    ]

    static func randomText(_ random: inout SplitMix64, maxPieces: UInt64) -> String {
        var text = ""
        let count = Int(random.next() % (maxPieces + 1))
        for _ in 0..<count {
            if random.next() % 50 == 0 {
                // A long line, to cross many soft breaks with values landing at every column.
                text += String(repeating: pieces[Int(random.next() % UInt64(pieces.count))], count: 2_000 / 4)
            } else {
                text += pieces[Int(random.next() % UInt64(pieces.count))]
            }
        }
        return text
    }

    /// Up to 7 pieces, static text or a value (escaped or not, sometimes empty), and the values.
    static func randomPart(_ random: inout SplitMix64) -> (PlainTemplate, [String]) {
        var segments: [PlainTemplate.Segment] = []
        var values: [String] = []
        for _ in 0..<Int(random.next() % 8) {
            if random.next() % 2 == 0 {
                let text = randomText(&random, maxPieces: 30)
                if !text.isEmpty { segments.append(.text(text)) }
            } else {
                values.append(randomText(&random, maxPieces: random.next() % 4 == 0 ? 0 : 6))
                segments.append(.variable(index: values.count - 1, escaped: random.next() % 2 == 0))
            }
        }
        return (PlainTemplate(segments: segments), values)
    }

    /// Static text and values alternating at random: the spliced text is the rendered template's, byte for byte
    /// (so its encoding is `BodyEncoding.write`'s of the whole text; `QuotedPrintableTests` checks that one).
    @Test(arguments: 0..<24)
    func splicedTextIsTheRenderedText(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for _ in 0..<200 {
            let (template, values) = Self.randomPart(&random)
            guard let body = SplicedBody(template, variableCount: values.count) else {
                Issue.record("no CR in the pieces, yet not compiled")
                return
            }
            let spliced = body.text(SpliceValues(values, escaped: template.escapedValues(values)))
            let whole = template.render(values)
            #expect(spliced == Array(whole.utf8), "\(whole.debugDescription)")
            if spliced != Array(whole.utf8) { return }
        }
    }

    /// A value with a CR is spliced as it is, and canonicalised by the encoder, as the string path does.
    @Test func valueWithCRLFIsCanonicalised() {
        let template = PlainTemplate(segments: [.text("Olá "), .variable(index: 0, escaped: false), .text(" fim\n")])
        let values = ["linha\r\nnova\rmais"]
        let body = SplicedBody(template, variableCount: 1)!
        var spliced: [UInt8] = []
        body.text(SpliceValues(values, escaped: values)).withUnsafeBufferPointer {
            BodyEncoding.write($0, into: &spliced) { _, _ in }
        }
        var expected: [UInt8] = []
        var whole = template.render(values)
        whole.withUTF8 { BodyEncoding.write($0, into: &expected) { _, _ in } }
        #expect(spliced == expected)
        #expect(String(decoding: spliced, as: UTF8.self).contains("linha\r\nnova\r\nmais"))
    }

    static let variables = [
        TemplateVariable("customer.first_name", default: "cliente"), TemplateVariable("offer_code"),
        TemplateVariable("send.unsubscribe_url"), TemplateVariable("extra", default: ""),
    ]

    static let valuePieces = [
        "Ana", "Giulia", "Conceição", "Niccolò", "🎉", "=", "=3D", " ", "  ", "\r\n", "\n", "<b>", "&", "\"", "'",
        "a=b", ".", "From ", "\t", "é", "👩🏽‍💻", "ção", String(repeating: "x", count: 2_000), "https://shop.example/p",
        "\"\u{301}", "HTTPS://Shop.example/", ">\u{301}",
    ]

    static func randomValue(_ random: inout SplitMix64) -> String {
        if random.next() % 6 == 0 { return "" }
        return (0..<Int(random.next() % 4 + 1)).map { _ in valuePieces[Int(random.next() % UInt64(valuePieces.count))] }
            .joined()
    }

    static let htmlPieces = [
        "<p>Olá {{customer.first_name}}, aproveite <b>{{offer_code}}</b> em todas as lojas. Até 50% de desconto!</p>\n",
        "<p>Caro {{customer.first_name}}, perché non provare {{{offer_code}}}? Sconto del 30%.</p>",
        "<a href=\"https://shop.example/p?c={{offer_code}}\">{{offer_code}}</a>", "<br>", " ", "\n", "=", "{{extra}}",
        "<p>" + String(repeating: "Promoção de verão ☀️ ", count: 12) + "{{customer.first_name}}</p>",
        "<p>.{{extra}}From {{extra}}</p>", "{{customer.first_name}}{{offer_code}}",
        "<a href=\"https://shop.example/\">Loja</a>",
        "<p><a href=\"{{send.unsubscribe_url}}\">Cancelar subscrição</a></p>", "\t \n", "🎉",
        "<a href=https://unquoted.example/?a=1&amp;b=2>x</a>", "<A HREF='https://single.example/'>y</A>", "</BODY>",
        "</body>{{extra}}", "<{{extra}}", "<a class=\"{{extra}}\" href=\"https://shop.example/\">z</a>",
        "<a href=\"mailto:care@ciclo.example\">care</a>", "</body>\n</html>", "<a href=\"{{offer_code}}\">o</a>",
        "<a href=\"https://shop.example/{{offer_code}}/{{extra}}?x=1&amp;y={{customer.first_name}}\">m</a>",
        "<a href='{{extra}}x'>s</a>", "</bo{{extra}}dy>", "</BODY{{extra}}>", "<p>{{extra}}</p>",
    ]

    static func randomTemplate(_ random: inout SplitMix64, textPart: Bool) throws -> MessageTemplate {
        var html = "<html><body>"
        for _ in 0..<Int(random.next() % 12 + 1) { html += htmlPieces[Int(random.next() % UInt64(htmlPieces.count))] }
        if random.next() % 2 == 0 { html += "</body></html>" }
        let subjects = [
            "{{customer.first_name}}, a sua oferta de verão: {{offer_code}} ☀️", "Offerta per {{customer.first_name}}",
            "{{extra}} {{offer_code}}", "Promoção 🎉 {{customer.first_name}} = {{offer_code}}",
        ]
        var parts: [String: (kind: MessageTemplate.PartKind, source: String)] = [
            "subject": (.text, subjects[Int(random.next() % UInt64(subjects.count))]), "html": (.html, html),
        ]
        if textPart { parts["text"] = (.text, "Olá {{customer.first_name}}\nCódigo: {{offer_code}} =\n{{extra}}") }
        return try MessageTemplate(name: "splice", parts: parts, variables: variables)
    }

    /// Generated templates (derived or given text part) and values (Portuguese and Italian text, emoji, 2,000
    /// characters, "=", CRLF, markup, empty values), with tracking on and off: whenever the fast path answers, its
    /// message is the `EmailMessage` path's, read as a reader reads it (it never answers with a failure: those
    /// always come from the message path), its quoted-printable keeps the encoder's rules, and it answers for most
    /// sends.
    @Test(arguments: 0..<16)
    func compiledPathIsTheMessagePath(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let renderer = EmailRenderer(configuration: .init(messageIDDomain: "mail.ciclo.example"))
        let sender = EmailSender(
            from: try EmailAddress("Ciclo Loja <ofertas@ciclo.example>"),
            replyTo: try EmailAddress("care@ciclo.example"),
            headers: [EmailHeader("X-Ciclo-Campaign", "verão-2026")], unsubscribeMailbox: "unsubscribe@ciclo.example",
            configuration: renderer.configuration)
        let tracking = EmailTracking(baseURL: "https://ciclo.example", secret: "splice-test-secret-0123456789")
        var fast = 0
        for round in 0..<60 {
            let template = try Self.randomTemplate(&random, textPart: random.next() % 3 == 0)
            var values: [String: String] = [:]
            for variable in Self.variables where random.next() % 8 != 0 {
                values[variable.name] = Self.randomValue(&random)
            }
            values["send.unsubscribe_url"] =
                [
                    "https://ciclo.example/u/tok\(round)", "https://shop.example/u?x=1&y=\"2\"",
                    "http://other.example/\(round)",
                ][Int(random.next() % 3)]
            let transform = random.next() % 2 == 0 ? tracking : nil
            let mailto =
                random.next() % 4 == 0 ? nil : "mailto:unsubscribe@ciclo.example?subject=unsubscribe%20t\(round)"
            let to = [try EmailAddress("Maria <maria\(round)@example.com>")]
            let date = Date(timeIntervalSince1970: 1_751_362_200 + Double(round) * 86_399.5)
            let unsubscribe = ListUnsubscribe(url: values["send.unsubscribe_url"], mailto: mailto)
            var message: EmailEnvelope?
            var failure = ""
            do {
                message = try renderer.renderMessage(
                    template, values: values, sender: sender, to: to, idempotencyKey: "key-\(round)", date: date,
                    unsubscribe: unsubscribe, tracking: transform, customer: 42)
            } catch {
                failure = "\(error)"
            }
            // The fast path alone: when it answers, it must be the message path's message.
            guard case .success(let resolved) = template.resolve(values),
                let compiled = renderer.spliced(
                    template, resolved, sender: sender, to: to, idempotencyKey: "key-\(round)", date: date,
                    unsubscribe: unsubscribe, tracking: transform, customer: 42)
            else { continue }
            fast += 1
            let same = try message.map { try Self.readable($0) == Self.readable(compiled) } ?? false
            #expect(
                same && message?.messageID == compiled.messageID && message?.recipients == compiled.recipients,
                "\(values) \(failure)\n\(String(decoding: compiled.message, as: UTF8.self))")
            let broken = Self.quotedPrintableParts(compiled).flatMap(QuotedPrintableReading.brokenRules)
            #expect(broken.isEmpty, "\(broken)")
            if !same || !broken.isEmpty { return }
        }
        #expect(fast > 20, "the fast path answers for most generated sends")
    }

    /// A message as a reader takes it: its headers, then each part's headers and decoded body, all as bytes. The
    /// two paths agree on all of them; their quoted-printable may differ (see `EncodedStatic`).
    static func readable(_ envelope: EmailEnvelope) throws -> [[UInt8]] {
        try parts(envelope).flatMap { headers, body -> [[UInt8]] in
            guard let body else { return [headers] }
            let quoted = String(decoding: headers, as: UTF8.self).contains("quoted-printable")
            return [headers, quoted ? try QuotedPrintableReading.decode(body) : body]
        }
    }

    /// The encoded bodies of the quoted-printable parts.
    static func quotedPrintableParts(_ envelope: EmailEnvelope) -> [[UInt8]] {
        ((try? parts(envelope)) ?? []).compactMap { headers, body in
            String(decoding: headers, as: UTF8.self).contains("quoted-printable") ? body : nil
        }
    }

    /// The message cut at its boundary: the message's headers (no body), each part's headers and body, the end.
    static func parts(_ envelope: EmailEnvelope) throws -> [(headers: [UInt8], body: [UInt8]?)] {
        let text = String(decoding: envelope.message, as: UTF8.self)
        let boundary = try #require(
            text.firstRange(of: "boundary=\"").map { text[$0.upperBound...].prefix { $0 != "\"" } })
        let chunks = text.components(separatedBy: "--" + boundary)
        return chunks.enumerated().map { index, chunk in
            guard index > 0 && index < chunks.count - 1, let end = chunk.range(of: "\r\n\r\n") else {
                return (Array(chunk.utf8), nil)
            }
            return (Array(chunk[..<end.upperBound].utf8), Array(chunk[end.upperBound...].utf8))
        }
    }

    /// What the fast path writes is a message Python's `email` package reads back as sent, without defects.
    @Test func compiledPathParsesInPython() throws {
        let template = try MessageTemplate(
            name: "parse",
            parts: [
                "subject": (.text, "{{customer.first_name}}, a sua oferta de verão: {{offer_code}} ☀️"),
                "html": (
                    .html,
                    String(
                        repeating: "<p>Olá {{customer.first_name}}, aproveite <b>{{offer_code}}</b>. Até 50%!</p>\n",
                        count: 20)
                ),
            ], variables: Self.variables)
        #expect(template.emailParts?.text != nil, "the text part is derived once")
        let renderer = EmailRenderer(configuration: .init(messageIDDomain: "mail.ciclo.example"))
        let sender = EmailSender(
            from: try EmailAddress("Ciclo Loja <ofertas@ciclo.example>"),
            unsubscribeMailbox: "unsubscribe@ciclo.example")
        let name = String(repeating: "Conceição=", count: 9)
        let envelope = try renderer.render(
            template,
            values: [
                "customer.first_name": name, "offer_code": "VERAO=1",
                "send.unsubscribe_url": "https://ciclo.example/u/t",
            ],
            sender: sender, to: [try EmailAddress("ana@example.com")], idempotencyKey: "k-1", date: Date(),
            unsubscribe: ListUnsubscribe(
                url: "https://ciclo.example/u/t", mailto: "mailto:unsubscribe@ciclo.example?subject=u%20t"))
        let parsed = try PythonEmail.parse(envelope.message)
        #expect(parsed.header("Subject") == "\(name), a sua oferta de verão: VERAO=1 ☀️")
        #expect(
            parsed.part("text/html")?.content.contains("<p>Olá \(name), aproveite <b>VERAO=1</b>. Até 50%!</p>\n")
                == true)
        #expect(parsed.part("text/plain")?.content.contains("Olá \(name), aproveite VERAO=1. Até 50%!") == true)
        #expect(parsed.maxLineLength <= 78)
        #expect(parsed.defects == [])
    }

    /// Tokens signed with the hand-written JSON are the ones JSONEncoder's JSON gave, over awkward keys and URLs.
    @Test func signedTokenIsTheEncoders() throws {
        var random = SplitMix64(seed: 11)
        let pieces = [
            "k", "\"", "\\", "/", "\n", "\u{1}", "\t", "é", "🎉", "https://shop.example/p?a=1&b=2", " ", "+/=",
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let secret = SymmetricKey(data: Data("token-test-secret-0123456789".utf8))
        for _ in 0..<500 {
            func text() -> String {
                (0..<Int(random.next() % 6)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
            }
            let claims = SignedToken.Claims(
                key: text(), customer: Int64(bitPattern: random.next()) >> Int64(random.next() % 64), channel: text(),
                purpose: "p" + text(), url: random.next() % 2 == 0 ? nil : text())  // a whole token names its purpose
            let body = SignedToken.base64url(try encoder.encode(claims))
            let mac = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: secret)
            #expect(SignedToken.sign(claims, secret: secret) == body + "." + SignedToken.base64url(Data(mac)))
        }
    }

    /// The Date header's bytes against Foundation's formatter, over 1970 to 9999.
    @Test func dateIsRFC5322() {
        var random = SplitMix64(seed: 7)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        for _ in 0..<2_000 {
            let date = Date(timeIntervalSince1970: Double(random.next() % 253_402_300_799))
            #expect(EmailRenderer.rfc5322Date(date) == formatter.string(from: date))
        }
    }
}
