import Testing

@testable import CicloChannels

/// The unsubscribe links a worker signs for a send, and when it signs them.
@Suite struct UnsubscribeLinksTests {
    @Test func linksCarryOneTokenTheReporterAccepts() throws {
        let key = KeyedHMAC(secret: "links-test-secret-0123456789")
        let links = UnsubscribeLinks(
            baseURL: "https://ciclo.example", mailbox: "unsubscribe@ciclo.example", key: key,
            idempotencyKey: "winback:42:2026-12-07", customer: 42, channel: "sms")
        let prefix = "https://ciclo.example/u/"
        #expect(links.url.hasPrefix(prefix))
        let token = String(links.url.dropFirst(prefix.count))
        #expect(links.mailto == "mailto:unsubscribe@ciclo.example?subject=unsubscribe%20" + token)
        let claims = try SignedToken.verify(token, purpose: "u", key: key)
        #expect(claims.key == "winback:42:2026-12-07" && claims.customer == 42 && claims.channel == "sms")
        #expect(throws: SignedToken.VerificationError.wrongPurpose) {
            try SignedToken.verify(token, purpose: "o", key: key)
        }
        let other = KeyedHMAC(secret: "another-secret-0123456789")
        #expect(throws: SignedToken.VerificationError.badSignature) {
            try SignedToken.verify(token, purpose: "u", key: other)
        }

        let noMailbox = UnsubscribeLinks(
            baseURL: "https://ciclo.example", mailbox: nil, key: key, idempotencyKey: "k", customer: 1,
            channel: "email")
        var values = ["offer_code": "X"]
        noMailbox.add(to: &values)
        #expect(values.keys.sorted() == ["offer_code", "send.unsubscribe_url"])
    }

    /// Signed for every email (its List-Unsubscribe header); for other channels only when the template declares a
    /// link, since a template that declares one without a default cannot render without it.
    @Test func signedOnlyWhereNeeded() throws {
        let plain = try MessageTemplate(
            name: "push", parts: ["title": (.text, "Olá {{customer.first_name}}")],
            variables: [TemplateVariable("customer.first_name", default: "")])
        let linked = try MessageTemplate(
            name: "sms", parts: ["body": (.text, "Sair: {{send.unsubscribe_mailto}}")],
            variables: [TemplateVariable("send.unsubscribe_mailto")])
        #expect(!UnsubscribeLinks.needed(channel: "push", template: plain))
        #expect(!UnsubscribeLinks.needed(channel: "sms", template: plain))
        #expect(UnsubscribeLinks.needed(channel: "email", template: plain))
        #expect(UnsubscribeLinks.needed(channel: "sms", template: linked))
    }
}
