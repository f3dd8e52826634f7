import CicloTestSupport
import Foundation
import Testing

/// The whole outcome path in one process tree: a real worker's sends, their open and click through the links in
/// the email, a provider's webhook delivered twice, conversions posted to /events inside and outside the
/// attribution window, all folded by the reporter's own aggregation into the figures `ciclo report` prints, and
/// `ciclo report --verify` agreeing with a recount.
@Suite("Reporter outcomes to the report, end to end")
struct OutcomesToReportTests {
    @Test("open, click, a duplicated webhook and two conversions (one outside the window) are each counted once")
    func outcomesReachTheReport() async throws {
        // No scanner window: the test clicks at once, and must not move a folded delivery in time to look human
        // (the fold has counted it on its day; moving it afterwards is a real mismatch that --verify would report).
        try await ReporterFixture.with(
            environment: ["CICLO_SCANNER_CLICK_SECONDS": "0"], arguments: ["--aggregate-interval", "0.2"]
        ) { f in
            let campaign = try await f.emailCampaign()
            let ana = try await f.customer("ana", email: "ana@example.com")
            let bob = try await f.customer("bob", email: "bob@example.com")
            let anaKey = try await f.enqueue(campaign: campaign, customer: ana)
            try await f.drainWorker()
            // Bob's send, recorded twelve days ago: his purchase today is past the campaign's 7-day window.
            try await f.conn.query("""
                INSERT INTO deliveries (job_id, idempotency_key, campaign_id, customer_id, channel, outcome, attempts,
                                        variant, finished_at)
                VALUES (0, 'bob-old-send', $1, $2, 'email', 'sent', 1, 'A', now() - interval '12 days')
                """, [campaign, bob])

            let html = try #require(try await f.deliveredEmail(anaKey).part("text/html")?.content)
            let (pixel, hrefs) = TrackingTests.links(html)
            let browser = ["User-Agent": TrackingTests.browser]
            #expect(try await f.http("GET", f.path(try #require(pixel)), headers: browser).status == 200)
            #expect(try await f.http("GET", f.path(try #require(pixel)), headers: browser).status == 200)
            #expect(try await f.http("GET", f.path(hrefs[0]), headers: browser).status == 302)

            let messageID = try await f.conn.query(
                "SELECT provider_message_id FROM deliveries WHERE idempotency_key = $1", [anaKey]).scalar(String.self)
            let delivered = WebhookTests.event("w-1", "delivered", messageID: messageID, at: 100)
            #expect(try await f.webhook(delivered).status == 200)
            #expect(try await f.webhook(delivered).status == 200)

            // A minute ahead: event times are whole seconds, and a purchase stamped before the send is never its.
            let now = Date().addingTimeInterval(60).ISO8601Format()
            let conversions = """
                [{"customer": "ana", "kind": "purchase", "time": "\(now)", "payload": {"amount": 30}},
                 {"customer": "bob", "kind": "purchase", "time": "\(now)", "payload": {"amount": 99}}]
                """
            let posted = try await f.http("POST", "/events", headers: [
                "Authorization": "Bearer \(f.eventsToken)", "Content-Type": "application/json",
            ], body: conversions)
            #expect(posted.status == 200, "\(posted.text)")

            // The reporter folds every 0.2 s, but only what is older than every transaction still open in the whole
            // cluster (xids are cluster-wide): with the rest of the suite running on the same server that can take
            // minutes. Each chunk takes the horizon afresh, so within one pass a later source can get ahead of an
            // earlier one (the conversion folded while the sends wait for the next pass): wait until every figure
            // has arrived. A figure counted twice never equals its expected value, so the wait then runs out and
            // the expectations below fail.
            let key = try await f.conn.query("SELECT key FROM campaigns WHERE id = $1", [campaign]).scalar(String.self)
            var figures: [String: Any] = [:]
            let deadline = ContinuousClock.now + .seconds(300)
            while ContinuousClock.now < deadline {
                figures = try Self.reportFigures(key, url: f.db.url)
                let expected = ["conversions": 1, "sent": 2, "opens": 1, "clicks": 1, "delivered": 1]
                if expected.allSatisfy({ figures[$0.key] as? Int == $0.value }) { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(figures["sent"] as? Int == 2, "\(figures)")
            #expect(figures["opens"] as? Int == 1)
            #expect(figures["clicks"] as? Int == 1)
            #expect(figures["machineOpens"] as? Int == 0)
            #expect(figures["delivered"] as? Int == 1, "the webhook delivered twice counts once")
            #expect(figures["conversions"] as? Int == 1, "Bob's purchase is outside the window")
            #expect(figures["converted"] as? Int == 1)
            #expect("\(figures["revenue"] ?? "")" == "30")

            let verify = try CicloRun.start(["report", "--verify"], url: f.db.url)
            #expect(await verify.wait(timeout: .seconds(60)) == 0, "\(verify.stdout) \(verify.stderr)")
            #expect(verify.stdout.contains("match"), "\(verify.stdout)")
        }
    }

    /// The campaign's summed figures from `ciclo report --campaign KEY --format json`.
    static func reportFigures(_ key: String, url: String) throws -> [String: Any] {
        let run = try CicloRun.start(["report", "--campaign", key, "--format", "json"], url: url)
        run.process.waitUntilExit()
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let lines = json?["lines"] as? [[String: Any]] ?? []
        var sums: [String: Any] = [:]
        for line in lines where (line["total"] as? Bool) != true {
            for (name, value) in line["figures"] as? [String: Any] ?? [:] {
                if let number = value as? Int { sums[name] = (sums[name] as? Int ?? 0) + number } else { sums[name] = value }
            }
        }
        return sums
    }
}
