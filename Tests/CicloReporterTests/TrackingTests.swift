import CicloChannels
import CicloTestSupport
import Foundation
import Testing

/// The open pixel, the click redirect and the unsubscribe page, through a real `ciclo reporter` and real worker
/// runs: the links the worker put in the email are the ones the test follows.
@Suite("Reporter tracking endpoints, end to end")
struct TrackingTests {
    static let browser = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"

    /// The links of the delivered email's HTML: the open pixel's src and each href, in order.
    static func links(_ html: String) -> (pixel: String?, hrefs: [String]) {
        let pixel = html.firstMatch(of: /<img src="([^"]+\/o\/[^"]+)"/).map { String($0.1) }
        let hrefs = html.matches(of: /href=["']([^"']+)["']/).map { String($0.1) }
        return (pixel, hrefs)
    }

    @Test("a sent email's open and click are recorded; proxy opens and scanner clicks are flagged as machine")
    func openAndClick() async throws {
        try await ReporterFixture.with { f in
            let customer = try await f.customer("ana", email: "ana@example.com")
            let campaign = try await f.emailCampaign()
            let key = try await f.enqueue(campaign: campaign, customer: customer)
            try await f.drainWorker()
            #expect(try await f.delivery(key)?.outcome == "sent")

            let html = try #require(try await f.deliveredEmail(key).part("text/html")?.content)
            let (pixel, hrefs) = Self.links(html)
            let pixelURL = try #require(pixel, "no open pixel in \(html)")
            #expect(pixelURL.hasPrefix(f.baseURL + "/o/"))
            #expect(html.range(of: "<img src=\"\(pixelURL)\"")!.lowerBound < html.range(of: "</body>")!.lowerBound)
            // The shop link is wrapped, mailto and the unsubscribe link are not.
            #expect(hrefs.count == 3)
            let click = hrefs[0]
            #expect(click.hasPrefix(f.baseURL + "/c/"))
            #expect(hrefs[1] == "mailto:help@shop.example")
            #expect(hrefs[2].hasPrefix(f.baseURL + "/u/"))
            // One signature gave the pixel and the unsubscribe link their tokens: the same claims, two tags.
            let pixelClaims = pixelURL.dropFirst((f.baseURL + "/o/").count).split(separator: ".").first
            #expect(pixelClaims != nil && hrefs[2].dropFirst((f.baseURL + "/u/").count).hasPrefix(pixelClaims! + "."))

            // A click seconds after delivery is a link scanner's; it still redirects. (The delivery is stamped now,
            // so a slow machine between the worker's run and this request cannot make it a person's.)
            try await f.conn.query("UPDATE deliveries SET finished_at = now() WHERE idempotency_key = $1", [key])
            let early = try await f.http("GET", f.path(click), headers: ["User-Agent": Self.browser])
            #expect(early.status == 302)
            #expect(early.headers["location"] == "https://shop.example/offer?code=SUMMER25&utm=summer")

            // The send was delivered an hour ago: now a browser's click and open are a person's.
            try await f.conn.query(
                "UPDATE deliveries SET finished_at = now() - interval '1 hour' WHERE idempotency_key = $1", [key])
            let human = try await f.http("GET", f.path(click), headers: ["User-Agent": Self.browser])
            #expect(human.status == 302)
            #expect(human.headers["location"] == "https://shop.example/offer?code=SUMMER25&utm=summer")
            let open = try await f.http("GET", f.path(pixelURL), headers: ["User-Agent": Self.browser])
            #expect(open.status == 200)
            #expect(open.headers["content-type"] == "image/gif")
            #expect(open.body.count == 43 && open.body.prefix(6) == Data("GIF89a".utf8))

            // Machines: Gmail's image proxy, Apple Mail Privacy Protection, a security scanner, a HEAD request.
            let gmail = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
            #expect(try await f.http("GET", f.path(pixelURL), headers: ["User-Agent": gmail]).status == 200)
            #expect(try await f.http("GET", f.path(pixelURL), headers: ["User-Agent": "Mozilla/5.0"]).status == 200)
            let scanner = try await f.http("GET", f.path(click), headers: ["User-Agent": "Barracuda Sentinel (EE)"])
            #expect(scanner.status == 302)
            let head = try await f.http("HEAD", f.path(click), headers: ["User-Agent": Self.browser])
            #expect(head.status == 302)

            let recorded = try await f.responses(key)
            #expect(recorded.map(\.kind) == ["click", "click", "open", "open", "open", "click", "click"])
            #expect(recorded.map(\.machine) == [true, false, false, true, true, true, true])
            #expect(recorded.map(\.reason) == [
                "soon_after_delivery", nil, nil, "privacy_proxy", "privacy_proxy", "link_scanner", "head_request",
            ])
            #expect(recorded.allSatisfy { $0.campaign == campaign && $0.customer == customer && $0.channel == "email" })
            let urls = try await f.conn.query(
                "SELECT DISTINCT data->>'url' FROM responses WHERE kind = 'click'").map { try $0.decode(String.self, at: 0) }
            #expect(urls == ["https://shop.example/offer?code=SUMMER25&utm=summer"])

            let metrics = try await f.http("GET", "/metrics").text
            #expect(metrics.contains(#"ciclo_reporter_responses_total{kind="open",machine="true"} 2"#), "\(metrics)")
            #expect(metrics.contains(#"ciclo_reporter_responses_total{kind="click",machine="false"} 1"#))
            #expect(metrics.contains(#"ciclo_reporter_requests_total{route="/c/{token}",status="302"} 4"#))
        }
    }

    @Test("a forged token and a tampered redirect URL are refused with 400 and record nothing")
    func forgedAndTampered() async throws {
        try await ReporterFixture.with { f in
            let customer = try await f.customer("bruno", email: "bruno@example.com")
            let claims = SignedToken.Claims(
                key: "k-1", customer: customer, channel: "email", purpose: "c", url: "https://shop.example/a")
            let genuine = SignedToken.sign(claims, secret: f.tokenSecret)
            #expect(try await f.http("GET", "/c/\(genuine)").status == 302)  // the control: a genuine token works
            try await f.conn.query("DELETE FROM responses")

            // Signed with another secret.
            let forged = SignedToken.sign(claims, secret: "not-the-reporters-secret-at-all")
            // The genuine signature over claims whose URL was edited to point elsewhere.
            var evil = claims
            evil.url = "https://evil.example/phish"
            let tampered = SignedToken.sign(evil, secret: "x").split(separator: ".")[0] + "."
                + genuine.split(separator: ".")[1]
            // A genuine open token presented as a click, and text that is no token at all.
            let openToken = SignedToken.sign(
                .init(key: "k-1", customer: customer, channel: "email", purpose: "o"), secret: f.tokenSecret)
            // The pixel's token of a pair presented as its unsubscribe token: the pixel's URL never unsubscribes.
            let pair = SignedToken.signPair(
                key: "k-1", customer: customer, channel: "email", key: KeyedHMAC(secret: f.tokenSecret))
            for path in ["/c/\(forged)", "/c/\(tampered)", "/c/\(openToken)", "/c/garbage", "/o/\(forged)",
                         "/o/\(genuine)", "/u/\(forged)", "/u/\(pair.open)"] {
                let reply = try await f.http("GET", path)
                #expect(reply.status == 400, "\(path) answered \(reply.status)")
                #expect(reply.headers["location"] == nil)
            }
            let unsubscribe = try await f.http(
                "POST", "/u/\(forged)", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: "List-Unsubscribe=One-Click")
            #expect(unsubscribe.status == 400)

            #expect(try await f.count("SELECT count(*) FROM responses") == 0)
            #expect(try await f.count("SELECT count(*) FROM suppressions") == 0)
            let metrics = try await f.http("GET", "/metrics").text
            #expect(metrics.contains(#"ciclo_reporter_rejected_tokens_total{route="/c/{token}"} 4"#), "\(metrics)")
            #expect(metrics.contains(#"ciclo_reporter_rejected_tokens_total{route="/u/{token}"} 3"#))
        }
    }

    @Test("a one-click unsubscribe suppresses the channel at once, keeps consent, and stops a queued send")
    func oneClickUnsubscribe() async throws {
        try await ReporterFixture.with { f in
            let customer = try await f.customer("carla", email: "carla@example.com")
            let campaign = try await f.emailCampaign()
            let first = try await f.enqueue(campaign: campaign, customer: customer)
            try await f.drainWorker()
            let email = try await f.deliveredEmail(first)
            let header = try #require(email.header("List-Unsubscribe"))
            let url = try #require(header.firstMatch(of: /<(http[^>]+)>/).map { String($0.1) })
            // The test reporter is plain http on loopback, so the renderer leaves out List-Unsubscribe-Post, which
            // RFC 8058 allows only with https; the POST below is the one a mail client would send all the same.
            let queued = try await f.enqueue(campaign: campaign, customer: customer)

            let page = try await f.http("GET", f.path(url))
            #expect(page.status == 200)
            #expect(page.text.contains("<form method=\"post\""))
            #expect(page.text.contains("name=\"List-Unsubscribe\" value=\"One-Click\""))
            #expect(try await f.suppression(customer) == nil, "showing the page must not unsubscribe")

            let wrongBody = try await f.http("POST", f.path(url), body: "unsubscribe=yes")
            #expect(wrongBody.status == 400)
            #expect(try await f.suppression(customer) == nil)

            for _ in 0..<2 {  // RFC 8058's POST, twice: the second changes nothing
                let reply = try await f.http(
                    "POST", f.path(url), headers: ["Content-Type": "application/x-www-form-urlencoded"],
                    body: "List-Unsubscribe=One-Click")
                #expect(reply.status == 200)
                #expect(reply.text.contains("You are unsubscribed"))
            }
            // A mail client's multipart/form-data POST is the same one-click unsubscribe.
            let multipart = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n"
            let reply = try await f.http(
                "POST", f.path(url), headers: ["Content-Type": "multipart/form-data; boundary=XyZ"], body: multipart)
            #expect(reply.status == 200)

            #expect(try await f.suppression(customer) == "unsubscribed")
            #expect(try await f.count(
                "SELECT count(*) FROM consents WHERE customer_id = $1 AND granted", [customer]) == 1)
            #expect(try await f.responses(first).map(\.kind) == ["unsubscribe"])

            try await f.drainWorker()
            let stopped = try #require(try await f.delivery(queued))
            #expect(stopped.outcome == "suppressed")
            #expect(stopped.reason == "suppressed_unsubscribed")
        }
    }

    @Test("/healthz answers ok and SIGTERM stops the reporter cleanly")
    func healthAndShutdown() async throws {
        try await ReporterFixture.with { f in
            let health = try await f.http("GET", "/healthz")
            #expect(health.status == 200)
            #expect(health.text == "ok\n")
            #expect(try await f.http("GET", "/nowhere").status == 404)
            f.reporter.signal(SIGTERM)
            #expect(await f.reporter.wait(timeout: .seconds(20)) == 0, "stderr: \(f.reporter.stderr.suffix(1000))")
            #expect(f.reporter.stderr.contains("reporter stopped"))
            #expect(!f.reporter.stderr.contains(f.tokenSecret) && !f.reporter.stderr.contains(f.eventsToken))
        }
    }
}
