import CicloChannels
import CicloTestSupport
import Foundation
import PropertyBased
import Testing

extension ReliabilityTests.Security {
    /// Edits of a genuine token: a character changed, the claims of another token under this signature, cut short,
    /// lengthened, or signed with another secret.
    static func forge(_ genuine: String, other: String, edit: Int, at position: Int, piece: String) -> String {
        var characters = Array(genuine)
        let at = position % max(1, characters.count)
        switch edit % 6 {
        case 0:
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
            characters[at] = alphabet[(position / 7) % alphabet.count]
            return String(characters)
        case 1: return other.split(separator: ".")[0] + "." + genuine.split(separator: ".")[1]
        case 2: return String(characters.prefix(at))
        case 3: return genuine + piece
        case 4:
            return SignedToken.sign(
                .init(key: piece, customer: Int64(position), channel: "email", purpose: "o"),
                secret: "guess-\(position)")
        default: return genuine.split(separator: ".")[0] + "." + piece
        }
    }

    @Test("forged and edited tracking tokens are refused with 400 and record nothing")
    func forgedTokens() async throws {
        let count = try ReliabilityTests.BadInput.count() * 5
        var tried = 0
        var equivalent = 0
        var corrupted = 0
        try await AttackFixture.with { f in
            let reporter = try await ReporterProcess.start(url: f.db.url)
            defer { reporter.run.stop() }
            let customer = try await f.conn.query("SELECT id FROM customers WHERE external_id = 'base-1'").scalar(
                Int64.self)
            let open = SignedToken.Claims(key: "k-sec-1", customer: customer, channel: "email", purpose: "o")
            let click = SignedToken.Claims(
                key: "k-sec-1", customer: customer, channel: "email", purpose: "c", url: "https://shop.example/a")
            let other = SignedToken.Claims(key: "k-sec-2", customer: customer + 1, channel: "email", purpose: "o")
            let genuine = [
                ("o", SignedToken.sign(open, secret: reporter.tokenSecret)),
                ("c", SignedToken.sign(click, secret: reporter.tokenSecret)),
            ]
            let otherToken = SignedToken.sign(other, secret: "another-secret-entirely-\(UUID().uuidString)")
            // The control: genuine tokens work.
            #expect(
                try await reporter.send("GET", "/o/\(genuine[0].1)", headers: ["User-Agent": "Mozilla/5.0 (X11)"])
                    .status == 200)
            #expect(
                try await reporter.send("GET", "/c/\(genuine[1].1)", headers: ["User-Agent": "Mozilla/5.0 (X11)"])
                    .status == 302)

            let input = zip(
                Gen<Int>.int(in: 0...1), Gen<Int>.int(in: 0...5), Gen<Int>.int(in: 0...100_000),
                Hostile.piece(FuzzInputs.words))
            await propertyCheck(count: count, input: input) { which, edit, position, piece in
                let (purpose, token) = genuine[which]
                let forged = Self.forge(token, other: otherToken, edit: edit, at: position, piece: piece)
                // An edit that leaves the signed bytes as they were (base64's spare bits) is the same token.
                if let claims = try? SignedToken.verify(forged, purpose: purpose, secret: reporter.tokenSecret),
                    claims == (which == 0 ? open : click)
                {
                    equivalent += 1
                    return
                }
                do {
                    tried += 1
                    let before = try await f.counts()
                    let reply = try await reporter.send(
                        "GET", "/\(purpose)/\(ReporterProcess.segment(forged))",
                        headers: ["User-Agent": "Mozilla/5.0 (X11)"])
                    #expect([400, 404].contains(reply.status), "\(reply.status) for forged \(forged)")
                    #expect(reply.headers["location"] == nil, "a forged click redirected: \(forged)")
                    let changed = AttackFixture.changes(before, try await f.counts())
                    #expect(changed.isEmpty, "a forged token stored \(changed)")
                    if !changed.isEmpty || reply.status < 400 { corrupted += 1 }
                } catch {
                    Issue.record(error)
                }
            }
        }
        try Reliability.record(
            .init(
                suite: "security tokens", load: "forged open and click tokens", faults: 0, inputs: tried, lost: 0,
                corrupted: corrupted, notes: ["\(equivalent) edits left the token's signed bytes unchanged (skipped)"]))
    }

    @Test("an unsubscribe link edited to reach another customer is refused and unsubscribes nobody")
    func unsubscribeAnotherCustomer() async throws {
        var tried = 0
        var corrupted = 0
        try await AttackFixture.with { f in
            let reporter = try await ReporterProcess.start(url: f.db.url)
            defer { reporter.run.stop() }
            let ids = try await f.conn.query(
                "SELECT id FROM customers WHERE external_id IN ('base-1', 'base-2') ORDER BY external_id"
            ).map { try $0.decode(Int64.self, at: 0) }
            let (ana, bia) = (ids[0], ids[1])
            let mine = SignedToken.Claims(key: "k-ana", customer: ana, channel: "email", purpose: "u")
            let token = SignedToken.sign(mine, secret: reporter.tokenSecret)
            let signature = token.split(separator: ".")[1]
            func claims(_ claims: SignedToken.Claims) -> String {
                String(SignedToken.sign(claims, secret: "x").split(separator: ".")[0])
            }
            let attacks = [
                // Ana's signature over claims naming Bia, Bia's channel, or Bia's send.
                claims(.init(key: "k-ana", customer: bia, channel: "email", purpose: "u")) + "." + signature,
                claims(.init(key: "k-bia", customer: bia, channel: "email", purpose: "u")) + "." + signature,
                claims(.init(key: "k-ana", customer: ana, channel: "sms", purpose: "u")) + "." + signature,
                // Bia's link signed with a guessed secret, and Ana's open and click tokens used as unsubscribe links.
                SignedToken.sign(.init(key: "k-bia", customer: bia, channel: "email", purpose: "u"), secret: "secret"),
                SignedToken.sign(
                    .init(key: "k-ana", customer: bia, channel: "email", purpose: "o"), secret: reporter.tokenSecret),
                SignedToken.sign(
                    .init(key: "k-ana", customer: bia, channel: "email", purpose: "c", url: "https://x.example"),
                    secret: reporter.tokenSecret),
            ]
            let form = ["Content-Type": "application/x-www-form-urlencoded"]
            for attack in attacks {
                tried += 1
                let page = try await reporter.send("GET", "/u/\(attack)")
                let post = try await reporter.send(
                    "POST", "/u/\(attack)", headers: form,
                    body: Data("List-Unsubscribe=One-Click".utf8))
                #expect(page.status == 400 && post.status == 400, "\(attack): GET \(page.status), POST \(post.status)")
                if post.status < 400 { corrupted += 1 }
            }
            // Ana's genuine link with Bia named in the body still unsubscribes Ana only: the token decides.
            tried += 1
            let genuine = try await reporter.send(
                "POST", "/u/\(token)", headers: form, body: Data("List-Unsubscribe=One-Click&customer=\(bia)".utf8))
            #expect(genuine.status == 200, "the control: Ana's own link works (\(genuine.status))")
            let suppressed = try await f.conn.query("SELECT customer_id FROM suppressions ORDER BY 1")
                .map { try $0.decode(Int64.self, at: 0) }
            #expect(suppressed == [ana], "suppressed: \(suppressed)")
            if suppressed.contains(bia) { corrupted += 1 }
        }
        try Reliability.record(
            .init(
                suite: "security unsubscribe", load: "edited unsubscribe links", faults: 0, inputs: tried, lost: 0,
                corrupted: corrupted, notes: []))
    }

    @Test("oversized bodies, paths and headers are refused with a 4xx, store nothing, and the reporter stays up")
    func oversized() async throws {
        var tried = 0
        var corrupted = 0
        var seen: [String] = []
        try await AttackFixture.with { f in
            let reporter = try await ReporterProcess.start(url: f.db.url)
            defer { reporter.run.stop() }
            let customer = try await f.conn.query("SELECT id FROM customers WHERE external_id = 'base-1'").scalar(
                Int64.self)
            let unsubscribe = SignedToken.sign(
                .init(key: "k-big", customer: customer, channel: "email", purpose: "u"), secret: reporter.tokenSecret)
            let event =
                #"{"customer": "base-1", "kind": "big", "time": "2026-03-01T09:30:00Z", "payload": {"pad": "PAD"}}"#
            let bigEvent = Data(
                event.replacingOccurrences(of: "PAD", with: String(repeating: "a", count: 9 << 20)).utf8)
            let bigHook = Data(
                ("["
                    + Array(
                        repeating: #"{"id": "e", "type": "delivered", "idempotency_key": "k"}"#,
                        count: 40_000
                    ).joined(separator: ",") + "]").utf8)
            let cases: [(String, String, [String: String], Data)] = [
                ("POST", "/events", ["Authorization": "Bearer \(reporter.eventsToken)"], bigEvent),
                ("POST", "/webhooks/esp", reporter.signed(bigHook), bigHook),
                (
                    "POST", "/u/\(unsubscribe)", ["Content-Type": "application/x-www-form-urlencoded"],
                    Data(("List-Unsubscribe=One-Click&pad=" + String(repeating: "b", count: 1 << 20)).utf8)
                ),
                ("GET", "/o/" + String(repeating: "A", count: 200_000), [:], Data()),
                ("GET", "/healthz", ["X-Big": String(repeating: "h", count: 200_000)], Data()),
            ]
            for (method, path, headers, body) in cases {
                tried += 1
                let before = try await f.counts()
                let status: String
                do {
                    let reply = try await reporter.send(method, path, headers: headers, body: body)
                    status = String(reply.status)
                    #expect((400..<500).contains(reply.status), "\(method) \(path.prefix(40)): \(reply.status)")
                } catch {
                    // A server may also close the connection on a request it will not read.
                    status = "closed"
                }
                seen.append("\(method) \(path.prefix(24))... \(body.count) B: \(status)")
                let changed = AttackFixture.changes(before, try await f.counts())
                #expect(changed.isEmpty, "\(method) \(path.prefix(40)) stored \(changed)")
                if !changed.isEmpty { corrupted += 1 }
                #expect(reporter.run.process.isRunning, "the reporter died: \(reporter.run.stderr.suffix(500))")
            }
            #expect(try await reporter.send("GET", "/healthz").status == 200, "the reporter answers afterwards")
        }
        try Reliability.record(
            .init(
                suite: "security oversized", load: "bodies up to 9 MiB, 200 KB paths and headers", faults: 0,
                inputs: tried, lost: 0, corrupted: corrupted, notes: seen))
    }
}
