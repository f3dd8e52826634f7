import CicloChannels
import Testing

/// Inputs that would make a broken or forged message are refused before a byte is written.
@Suite struct EmailValidationTests {
    /// Renders `message` and returns the error it must fail with.
    private func failure(_ message: EmailMessage) -> EmailError? {
        #expect(throws: EmailError.self) { try render(message) }
    }

    @Test(arguments: [
        "Hello\r\nBcc: everyone@example.com",
        "Hello\nBcc: everyone@example.com",
        "Hello\rBcc: everyone@example.com",
        "Promoção\r\n\r\n<html>spoofed body",
    ])
    func aLineBreakInTheSubjectIsRefused(subject: String) throws {
        let error = failure(try sampleMessage(subject: subject))
        #expect(error?.code == .headerInjection)
        #expect(error?.field == "subject")
        #expect(error?.description.contains("line break") == true)
    }

    @Test func aLineBreakInAnUnsubscribeURIIsRefused() throws {
        let url = ListUnsubscribe(url: "https://ciclo.example/u/1\r\nBcc: everyone@example.com")
        let urlError = failure(try sampleMessage(unsubscribe: url))
        #expect(urlError?.code == .headerInjection && urlError?.field == "unsubscribe URL")
        let mailto = ListUnsubscribe(mailto: "mailto:u@ciclo.example\nBcc: everyone@example.com")
        let mailtoError = failure(try sampleMessage(unsubscribe: mailto))
        #expect(mailtoError?.code == .headerInjection && mailtoError?.field == "unsubscribe mailto")
    }

    @Test func aLineBreakInAnExtraHeaderIsRefused() throws {
        let value = failure(try sampleMessage(headers: [EmailHeader("X-Campaign", "a\r\nBcc: everyone@example.com")]))
        #expect(value?.code == .headerInjection)
        let name = failure(try sampleMessage(headers: [EmailHeader("X-Campaign\r\nBcc", "x")]))
        #expect(name?.code == .headerInjection)
    }

    @Test func aLineBreakInADisplayNameNeverReachesAMessage() {
        let error = #expect(throws: EmailError.self) {
            try EmailAddress(address: "maria@example.com", displayName: "Maria\r\nBcc: everyone@example.com")
        }
        #expect(error?.code == .headerInjection && error?.field == "display name")
    }

    @Test(arguments: [
        ("X Campaign", EmailError.Code.invalidHeaderName),
        ("X-Campaign:", .invalidHeaderName),
        ("", .invalidHeaderName),
        ("X-Cämpaign", .invalidHeaderName),
        ("bcc", .reservedHeader),
        ("Message-ID", .reservedHeader),
        ("Content-Type", .reservedHeader),
        ("List-Unsubscribe", .reservedHeader),
    ])
    func extraHeadersMayNotBeMalformedOrReplaceOurs(name: String, code: EmailError.Code) throws {
        #expect(failure(try sampleMessage(headers: [EmailHeader(name, "value")]))?.code == code)
    }

    @Test(arguments: [
        ListUnsubscribe(url: "ftp://ciclo.example/u/1"),
        ListUnsubscribe(url: "https:///no-host"),
        ListUnsubscribe(url: "https://ciclo.example/u/1 2"),
        ListUnsubscribe(url: "https://ciclo.example/ü"),
        ListUnsubscribe(url: "https://ciclo.example/>,<https://evil.example/"),
        ListUnsubscribe(mailto: "mailto:not-an-address"),
        ListUnsubscribe(mailto: "https://ciclo.example/u/1"),
    ])
    func unsubscribeURIsMustBeHTTPSAndMailto(unsubscribe: ListUnsubscribe) throws {
        let error = failure(try sampleMessage(unsubscribe: unsubscribe))
        #expect(error != nil)
        #expect(error?.field.hasPrefix("unsubscribe") == true)
    }

    @Test("a plain http unsubscribe link is listed, but only https gets the one-click header (RFC 8058)")
    func httpUnsubscribeHasNoOneClick() throws {
        let renderer = EmailRenderer()
        let http = try renderer.render(try sampleMessage(unsubscribe: ListUnsubscribe(url: "http://127.0.0.1:8080/u/1")))
        let httpText = String(decoding: http.message, as: UTF8.self)
        #expect(httpText.contains("List-Unsubscribe: <http://127.0.0.1:8080/u/1>"))
        #expect(!httpText.contains("List-Unsubscribe-Post"))
        let https = try renderer.render(try sampleMessage(unsubscribe: ListUnsubscribe(url: "https://ciclo.example/u/1")))
        #expect(String(decoding: https.message, as: UTF8.self).contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
    }

    @Test func aMessageNeedsRecipientsASubjectABodyAndAKey() throws {
        var noRecipients = try sampleMessage()
        noRecipients.to = []
        #expect(failure(noRecipients)?.code == .noRecipients)
        #expect(failure(try sampleMessage(subject: "  "))?.code == .emptySubject)
        #expect(failure(try sampleMessage(html: " \n "))?.code == .emptyBody)
        #expect(failure(try sampleMessage(idempotencyKey: ""))?.code == .emptyIdempotencyKey)
        #expect(failure(try sampleMessage(subject: "Bell\u{7}"))?.code == .controlCharacter)
    }

    @Test func anInvalidMessageIDDomainIsRefused() throws {
        let renderer = EmailRenderer(configuration: .init(messageIDDomain: "not a domain"))
        let error = #expect(throws: EmailError.self) { try renderer.render(try sampleMessage()) }
        #expect(error?.code == .invalidDomain && error?.field == "Message-ID domain")
    }
}
