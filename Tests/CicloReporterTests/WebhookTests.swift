import CicloChannels
import CicloTestSupport
import Foundation
import Testing

/// `POST /webhooks/{provider}` through a real `ciclo reporter`: signed events from a provider, stored once each,
/// in any order, with the suppressions they call for.
@Suite("Reporter provider webhooks, end to end")
struct WebhookTests {
    /// Event times are minutes after this: two hours ago, inside the soft-bounce window, in whole seconds.
    static let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 7_200).rounded(.down))

    /// One event in the reporter's generic format.
    static func event(
        _ id: String, _ type: String, messageID: String, at minutes: Int, data: String = "{}"
    ) -> String {
        let time = start.addingTimeInterval(Double(minutes * 60))
        return #"{"id": "\#(id)", "type": "\#(type)", "message_id": "\#(messageID)", "occurred_at": "\#(time.ISO8601Format())", "data": \#(data)}"#
    }

    @Test("a hard bounce suppresses the channel, and the next queued send ends suppressed at claim")
    func hardBounceSuppressesNextSend() async throws {
        try await ReporterFixture.with { f in
            let customer = try await f.customer("dora", email: "dora@example.com")
            let campaign = try await f.emailCampaign()
            let sent = try await f.recordedDelivery(campaign: campaign, customer: customer, providerMessageID: "esp-msg-1")
            let next = try await f.enqueue(campaign: campaign, customer: customer)

            let reply = try await f.webhook(Self.event(
                "evt-1", "bounce_hard", messageID: "esp-msg-1", at: 0, data: #"{"smtp": "550 5.1.1 user unknown"}"#))
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.text == #"{"duplicates":0,"skipped":[],"stored":1,"unmatched":[]}"#)
            #expect(try await f.suppression(customer) == "hard_bounce")
            let stored = try await f.conn.query("""
                SELECT idempotency_key, kind, provider, provider_event_id, data->>'smtp', campaign_id, channel
                FROM responses
                """).single()
            #expect(try stored.decode(String.self, at: 0) == sent)
            #expect(try stored.decode(String.self, at: 1) == "bounce_hard")
            #expect(try stored.decode(String.self, at: 2) == "esp")
            #expect(try stored.decode(String.self, at: 3) == "evt-1")
            #expect(try stored.decode(String.self, at: 4) == "550 5.1.1 user unknown")
            #expect(try stored.decode(Int64.self, at: 5) == campaign)
            #expect(try stored.decode(String.self, at: 6) == "email")

            try await f.drainWorker()
            let stopped = try #require(try await f.delivery(next))
            #expect(stopped.outcome == "suppressed")
            #expect(stopped.reason == "suppressed_hard_bounce")
        }
    }

    @Test("events delivered twice and out of order are stored once; soft bounces suppress at the threshold only")
    func duplicatesAndOrder() async throws {
        try await ReporterFixture.with { f in
            let customer = try await f.customer("eva", email: "eva@example.com")
            let campaign = try await f.emailCampaign()
            _ = try await f.recordedDelivery(campaign: campaign, customer: customer, providerMessageID: "m-1")
            _ = try await f.recordedDelivery(campaign: campaign, customer: customer, providerMessageID: "m-2")
            _ = try await f.recordedDelivery(campaign: campaign, customer: customer, providerMessageID: "m-3")

            // Two soft bounces (minutes 10 and 20), then a delivery at minute 30 that resets the count, then the
            // first bounce again (a provider retry), then a soft bounce at 40: one since the delivery, no suppression.
            #expect(try await f.webhook(Self.event("s1", "bounce_soft", messageID: "m-1", at: 10)).status == 200)
            #expect(try await f.webhook(Self.event("s2", "bounce_soft", messageID: "m-2", at: 20)).status == 200)
            #expect(try await f.webhook(Self.event("d3", "delivered", messageID: "m-3", at: 30)).status == 200)
            let again = try await f.webhook(Self.event("s1", "bounce_soft", messageID: "m-1", at: 10))
            #expect(again.status == 200)
            #expect(again.text == #"{"duplicates":1,"skipped":[],"stored":0,"unmatched":[]}"#)
            #expect(try await f.webhook(Self.event("s4", "bounce_soft", messageID: "m-3", at: 40)).status == 200)
            #expect(try await f.suppression(customer) == nil)

            // Two more soft bounces in one batch, with a late `delivered` from minute 5 among them (out of order):
            // it is older than every bounce, so it resets nothing and three bounces since minute 30 suppress.
            let batch = "[" + [
                Self.event("s5", "bounce_soft", messageID: "m-3", at: 50),
                Self.event("d0", "delivered", messageID: "m-1", at: 5),
                Self.event("s6", "bounce_soft", messageID: "m-3", at: 60),
            ].joined(separator: ",") + "]"
            let reply = try await f.webhook(batch)
            #expect(reply.text == #"{"duplicates":0,"skipped":[],"stored":3,"unmatched":[]}"#)
            #expect(try await f.suppression(customer) == "soft_bounces")

            // A late `delivered` never undoes a suppression, and the whole batch again stores nothing.
            #expect(try await f.webhook(Self.event("d9", "delivered", messageID: "m-3", at: 90)).status == 200)
            #expect(try await f.webhook(batch).text == #"{"duplicates":3,"skipped":[],"stored":0,"unmatched":[]}"#)
            #expect(try await f.suppression(customer) == "soft_bounces")

            let ids = try await f.conn.query(
                "SELECT provider_event_id FROM responses ORDER BY provider_event_id").map { try $0.decode(String.self, at: 0) }
            #expect(ids == ["d0", "d3", "d9", "s1", "s2", "s4", "s5", "s6"])
            #expect(try await f.count("SELECT count(*) FROM provider_events WHERE provider = 'esp'") == 8)
        }
    }

    @Test("an event for a send not known yet is answered 404 and stored on the provider's retry")
    func unmatchedThenRetried() async throws {
        try await ReporterFixture.with { f in
            let customer = try await f.customer("fia", email: "fia@example.com")
            let campaign = try await f.emailCampaign()
            let body = Self.event("c1", "complaint", messageID: "late-msg", at: 0)
            let early = try await f.webhook(body)
            #expect(early.status == 404)
            #expect(early.text.contains("no send matches event(s) c1"))
            #expect(try await f.count("SELECT count(*) FROM responses") == 0)
            #expect(try await f.count("SELECT count(*) FROM provider_events") == 0)

            _ = try await f.recordedDelivery(campaign: campaign, customer: customer, providerMessageID: "late-msg")
            let retried = try await f.webhook(body)
            #expect(retried.status == 200)
            #expect(try await f.suppression(customer) == "complaint")
        }
    }

    @Test("bad signatures, stale timestamps, unknown providers and bad bodies are refused and store nothing")
    func refusals() async throws {
        try await ReporterFixture.with { f in
            let customer = try await f.customer("gil", email: "gil@example.com")
            let campaign = try await f.emailCampaign()
            _ = try await f.recordedDelivery(campaign: campaign, customer: customer, providerMessageID: "m-1")
            let body = Self.event("h1", "bounce_hard", messageID: "m-1", at: 0)

            let wrongSecret = try await f.webhook(body, secret: "someone-elses-secret-entirely")
            #expect(wrongSecret.status == 401)
            #expect(wrongSecret.text.contains("signature does not match"))
            let stale = try await f.webhook(body, timestamp: Int64(Date().timeIntervalSince1970) - 3_600)
            #expect(stale.status == 401)
            #expect(stale.text.contains("tolerance"))
            let unsigned = try await f.http("POST", "/webhooks/esp", body: body)
            #expect(unsigned.status == 401)
            #expect(unsigned.text.contains("lacks the X-Ciclo-Timestamp or X-Ciclo-Signature header"))
            // The body edited after signing.
            let timestamp = Int64(Date().timeIntervalSince1970)
            let signature = WebhookSignature.sign(body: Data(body.utf8), timestamp: timestamp, secret: f.providerSecret)
            let edited = try await f.http("POST", "/webhooks/esp", headers: [
                "X-Ciclo-Timestamp": String(timestamp), "X-Ciclo-Signature": signature,
            ], body: body.replacingOccurrences(of: "bounce_hard", with: "delivered"))
            #expect(edited.status == 401)
            #expect(try await f.webhook(body, provider: "other").status == 404)

            let badJSON = try await f.webhook("{\"id\": ")
            #expect(badJSON.status == 400)
            #expect(badJSON.text.contains("not valid JSON"))
            // An unknown kind is only skipped when the event is otherwise well-formed (WebhookKindsTests).
            let badUnknown = try await f.webhook("[" + body + ","
                + #"{"id": "x", "type": "opened", "message_id": "m-1", "occurred_at": "yesterday"}"# + "]")
            #expect(badUnknown.status == 400)
            #expect(badUnknown.text.contains(#"event 2: occurred_at \"yesterday\" is not an RFC 3339 time"#),
                    "\(badUnknown.text)")
            let noSend = try await f.webhook(#"{"id": "y", "type": "delivered", "occurred_at": "2026-01-01T00:00:00Z"}"#)
            #expect(noSend.status == 400)
            #expect(noSend.text.contains("event 1: names no send"))

            #expect(try await f.count("SELECT count(*) FROM responses") == 0)
            #expect(try await f.count("SELECT count(*) FROM provider_events") == 0)
            #expect(try await f.suppression(customer) == nil)
            let metrics = try await f.http("GET", "/metrics").text
            #expect(metrics.contains(#"ciclo_reporter_webhooks_total{provider="esp",result="refused"} 7"#), "\(metrics)")
        }
    }
}
