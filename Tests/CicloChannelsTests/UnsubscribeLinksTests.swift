import Foundation
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
        // The pixel's token comes from the same signature, and neither passes for the other.
        let open = try SignedToken.verify(links.openToken, purpose: "o", key: key)
        #expect(open == .init(key: "winback:42:2026-12-07", customer: 42, channel: "sms", purpose: "o"))
        #expect(throws: SignedToken.VerificationError.badSignature) {
            try SignedToken.verify(token, purpose: "o", key: key)
        }
        #expect(throws: SignedToken.VerificationError.badSignature) {
            try SignedToken.verify(links.openToken, purpose: "u", key: key)
        }
        #expect(throws: SignedToken.VerificationError.wrongPurpose) {
            try SignedToken.verify(token, purpose: "c", key: key)
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

    /// A pair's tokens carry one half of one MAC each; whole tokens (one MAC for claims that name their purpose, as
    /// clicks and tokens signed before pairs have) still verify, and no token of one kind passes as the other.
    @Test func pairedAndWholeTokens() throws {
        let key = KeyedHMAC(secret: "links-test-secret-0123456789")
        let pair = SignedToken.signPair(key: "k-7", customer: 7, channel: "email", key: key)
        let claims = pair.open.split(separator: ".")[0]
        #expect(pair.unsubscribe.hasPrefix(claims + "."), "one set of claims, two tags")
        #expect(pair.open.split(separator: ".")[1].count == 22 && pair.unsubscribe.split(separator: ".")[1].count == 22)
        #expect(try SignedToken.verify(pair.unsubscribe, purpose: "u", key: key).purpose == "u")
        #expect(try SignedToken.verify(pair.open, purpose: "o", key: key).customer == 7)

        // A whole token for the same send, as signed before pairs: it verifies for its own purpose only.
        let whole = SignedToken.sign(.init(key: "k-7", customer: 7, channel: "email", purpose: "u"), key: key)
        #expect(try SignedToken.verify(whole, purpose: "u", key: key).key == "k-7")
        #expect(throws: SignedToken.VerificationError.wrongPurpose) {
            try SignedToken.verify(whole, purpose: "o", key: key)
        }

        // A click token's MAC cut to either half does not pass for a pair's open or unsubscribe token: its claims
        // name a purpose, so it is not the pair's claims, whatever half it is given.
        let click = SignedToken.sign(
            .init(key: "k-7", customer: 7, channel: "email", purpose: "c", url: "https://shop.example/"), key: key)
        let pieces = click.split(separator: ".").map(String.init)
        let tag = try #require(SignedToken.decodeBase64url(pieces[1]))
        for (purpose, half) in [("o", tag.prefix(16)), ("u", tag.suffix(16))] {
            let cut = pieces[0] + "." + SignedToken.base64url(Data(half))
            #expect(throws: SignedToken.VerificationError.badSignature) {
                try SignedToken.verify(cut, purpose: purpose, key: key)
            }
        }
        // An open pixel's whole token, as signed before pairs (and logged by image proxies since), cut to its last
        // half: not an unsubscribe token either.
        let oldOpen = SignedToken.sign(.init(key: "k-7", customer: 7, channel: "email", purpose: "o"), key: key)
        let oldPieces = oldOpen.split(separator: ".").map(String.init)
        let oldTag = try #require(SignedToken.decodeBase64url(oldPieces[1]))
        #expect(throws: SignedToken.VerificationError.badSignature) {
            try SignedToken.verify(oldPieces[0] + "." + SignedToken.base64url(Data(oldTag.suffix(16))), purpose: "u", key: key)
        }
        // No route has an empty purpose, and claims never name an empty one.
        #expect(throws: SignedToken.VerificationError.wrongPurpose) { try SignedToken.verify(pair.open, purpose: "", key: key) }
        let emptyPurpose = SignedToken.base64url(Data(#"{"c":7,"ch":"email","k":"k-7","p":""}"#.utf8))
        #expect(throws: SignedToken.VerificationError.self) {
            try SignedToken.verify(emptyPurpose + "." + SignedToken.base64url(Data(count: 16)), purpose: "u", key: key)
        }
        // A pair's token is never a click, and a tag of another length is malformed.
        #expect(throws: SignedToken.VerificationError.wrongPurpose) {
            try SignedToken.verify(pair.open, purpose: "c", key: key)
        }
        let short = pieces[0] + "." + SignedToken.base64url(Data(tag.prefix(20)))
        #expect(throws: SignedToken.VerificationError.malformed) { try SignedToken.verify(short, purpose: "c", key: key) }
        // The other secret refuses both.
        let other = KeyedHMAC(secret: "another-secret-0123456789")
        #expect(throws: SignedToken.VerificationError.badSignature) {
            try SignedToken.verify(pair.open, purpose: "o", key: other)
        }
        #expect(throws: SignedToken.VerificationError.badSignature) {
            try SignedToken.verify(whole, purpose: "u", secret: "another-secret-0123456789")
        }
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
