import CicloTestSupport
import Foundation
import Testing

/// `POST /webhooks/{provider}` and the kinds of event it takes: a provider-reported `unsubscribe` suppresses like
/// the one-click link, and a well-formed event of an unknown kind is skipped without losing the batch around it.
@Suite("Reporter provider webhooks: event kinds, end to end")
struct WebhookKindsTests {
    static func event(_ id: String, _ type: String, messageID: String, at minutes: Int, data: String = "{}") -> String {
        WebhookTests.event(id, type, messageID: messageID, at: minutes, data: data)
    }

    /// An SMS the worker recorded as sent, with the provider's message id; returns its idempotency key.
    static func recordedSMS(_ f: ReporterFixture, campaign: Int64, customer: Int64, messageID: String) async throws
        -> String
    {
        let key = "sms-\(UUID().uuidString.prefix(8).lowercased())"
        try await f.conn.query("""
            INSERT INTO deliveries (job_id, idempotency_key, campaign_id, customer_id, channel, outcome, attempts,
                                    provider_message_id, variant)
            VALUES (0, $1, $2, $3, 'sms', 'sent', 1, $4, 'A')
            """, [key, campaign, customer, messageID])
        return key
    }

    @Test("an SMS STOP reported as unsubscribe suppresses that channel only, as unsubscribed, once")
    func unsubscribeSuppressesTheSendsChannel() async throws {
        try await ReporterFixture.with { f in
            let customer = try await f.customer("hana", email: "hana@example.com")
            let campaign = try await f.emailCampaign()
            let key = try await Self.recordedSMS(f, campaign: campaign, customer: customer, messageID: "sms-1")

            let stop = Self.event("u1", "unsubscribe", messageID: "sms-1", at: 0, data: #"{"reply": "STOP"}"#)
            let reply = try await f.webhook(stop)
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.text == #"{"duplicates":0,"skipped":[],"stored":1,"unmatched":[]}"#)
            let row = try await f.conn.query(
                "SELECT channel, reason FROM suppressions WHERE customer_id = $1", [customer]).single()
            #expect(try row.decode(String.self, at: 0) == "sms")
            #expect(try row.decode(String.self, at: 1) == "unsubscribed", "the reason the one-click link records")
            #expect(try await f.suppression(customer) == nil, "email is another channel")
            #expect(try await f.responses(key) == [
                .init(kind: "unsubscribe", machine: false, campaign: campaign, customer: customer, channel: "sms"),
            ])

            // Replayed, nothing changes; a later complaint on the same send keeps the first reason.
            #expect(try await f.webhook(stop).text == #"{"duplicates":1,"skipped":[],"stored":0,"unmatched":[]}"#)
            #expect(try await f.count("SELECT count(*) FROM responses WHERE kind = 'unsubscribe'") == 1)
            #expect(try await f.webhook(Self.event("c1", "complaint", messageID: "sms-1", at: 1)).status == 200)
            #expect(try await f.suppression(customer, channel: "sms") == "unsubscribed")
            #expect(try await f.count("SELECT count(*) FROM suppressions") == 1)

            // A customer deleted since the send: the event is stored, nothing is suppressed, and the provider gets
            // a 200 rather than a 500 it would retry for ever (deliveries keep no foreign key to customers).
            let gone = try await f.customer("ivo", email: "ivo@example.com")
            _ = try await Self.recordedSMS(f, campaign: campaign, customer: gone, messageID: "sms-2")
            try await f.conn.query("DELETE FROM customers WHERE id = $1", [gone])
            let late = try await f.webhook(Self.event("u2", "unsubscribe", messageID: "sms-2", at: 2))
            #expect(late.status == 200, "\(late.text)")
            #expect(try await f.count("SELECT count(*) FROM suppressions WHERE customer_id = $1", [gone]) == 0)

            let metrics = try await f.http("GET", "/metrics").text
            #expect(metrics.contains(#"ciclo_reporter_responses_total{kind="unsubscribe",machine="false"} 2"#),
                    "\(metrics)")
        }
    }

    @Test("a provider's list-unsubscribe stops the next queued email at the worker's claim")
    func unsubscribeStopsTheNextSend() async throws {
        try await ReporterFixture.with { f in
            let customer = try await f.customer("jon", email: "jon@example.com")
            let campaign = try await f.emailCampaign()
            _ = try await f.recordedDelivery(campaign: campaign, customer: customer, providerMessageID: "esp-1")
            let next = try await f.enqueue(campaign: campaign, customer: customer)

            let reply = try await f.webhook(Self.event(
                "lu-1", "unsubscribe", messageID: "esp-1", at: 0, data: #"{"method": "list-unsubscribe"}"#))
            #expect(reply.status == 200, "\(reply.text)")
            #expect(try await f.suppression(customer) == "unsubscribed")

            try await f.drainWorker()
            let stopped = try #require(try await f.delivery(next))
            #expect(stopped.outcome == "suppressed")
            #expect(stopped.reason == "suppressed_unsubscribed")
        }
    }

    @Test("a batch with an unknown kind stores the known events, reports the unknown one, and replays to nothing")
    func unknownKindIsSkipped() async throws {
        try await ReporterFixture.with { f in
            let kim = try await f.customer("kim", email: "kim@example.com")
            let lea = try await f.customer("lea", email: "lea@example.com")
            let campaign = try await f.emailCampaign()
            _ = try await f.recordedDelivery(campaign: campaign, customer: kim, providerMessageID: "m-kim")
            _ = try await f.recordedDelivery(campaign: campaign, customer: lea, providerMessageID: "m-lea")
            let batch = "[" + [
                Self.event("h1", "bounce_hard", messageID: "m-kim", at: 0),
                Self.event("o1", "opened", messageID: "m-kim", at: 1),
                Self.event("c1", "complaint", messageID: "m-lea", at: 2),
            ].joined(separator: ",") + "]"

            let reply = try await f.webhook(batch)
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.text
                == #"{"duplicates":0,"skipped":[{"index":2,"type":"opened"}],"stored":2,"unmatched":[]}"#)
            #expect(try await f.suppression(kim) == "hard_bounce")
            #expect(try await f.suppression(lea) == "complaint")
            #expect(try await f.responses().map(\.kind) == ["bounce_hard", "complaint"])
            let claimed = try await f.conn.query("SELECT event_id FROM provider_events ORDER BY event_id")
                .map { try $0.decode(String.self, at: 0) }
            #expect(claimed == ["c1", "h1"], "a skipped event is not claimed, so a later Ciclo may take it")

            let again = try await f.webhook(batch)
            #expect(again.status == 200)
            #expect(again.text
                == #"{"duplicates":2,"skipped":[{"index":2,"type":"opened"}],"stored":0,"unmatched":[]}"#)
            #expect(try await f.count("SELECT count(*) FROM responses") == 2)
            #expect(try await f.count("SELECT count(*) FROM suppressions") == 2)

            // Only unknown kinds: nothing to store, still acknowledged. With an unmatched send beside it, the 404
            // the provider retries on still lists what was skipped.
            let only = try await f.webhook(Self.event("x1", "sms_inbound", messageID: "m-kim", at: 3))
            #expect(only.status == 200)
            #expect(only.text
                == #"{"duplicates":0,"skipped":[{"index":1,"type":"sms_inbound"}],"stored":0,"unmatched":[]}"#)
            let early = try await f.webhook("[" + Self.event("x2", "opened", messageID: "m-lea", at: 4) + ","
                + Self.event("d1", "delivered", messageID: "not-yet", at: 4) + "]")
            #expect(early.status == 404)
            #expect(early.text.contains(#""skipped":[{"index":1,"type":"opened"}]"#), "\(early.text)")
            #expect(early.text.contains(#""unmatched":["d1"]"#))
            #expect(try await f.count("SELECT count(*) FROM responses") == 2)

            let metrics = try await f.http("GET", "/metrics").text
            #expect(metrics.contains(#"ciclo_reporter_webhooks_total{provider="esp",result="skipped"} 4"#),
                    "\(metrics)")
        }
    }

    @Test("an event of an unknown kind that is also malformed refuses the whole batch, naming the event")
    func malformedUnknownKindsAreRefused() async throws {
        try await ReporterFixture.with { f in
            let customer = try await f.customer("max", email: "max@example.com")
            let campaign = try await f.emailCampaign()
            _ = try await f.recordedDelivery(campaign: campaign, customer: customer, providerMessageID: "m-1")
            let good = Self.event("h1", "bounce_hard", messageID: "m-1", at: 0)
            let time = #""occurred_at": "2026-03-01T09:30:00Z""#
            let cases: [(String, String)] = [
                (#"{"id": "x", "type": "opened", "message_id": "m-1", "occurred_at": "yesterday"}"#,
                 #"event 2: occurred_at \"yesterday\" is not an RFC 3339 time"#),
                (#"{"id": "x", "type": "opened", "message_id": "m-1", "colour": "red", \#(time)}"#,
                 #"event 2: has an unknown field \"colour\""#),
                (#"{"id": "x", "type": "opened", \#(time)}"#, "event 2: names no send"),
                (#"{"id": "x", "type": 7, "message_id": "m-1", \#(time)}"#,
                 "event 2: type must be a non-empty string"),
                (#"{"id": "x", "type": "", "message_id": "m-1", \#(time)}"#,
                 "event 2: type must be a non-empty string"),
                (#"{"id": "x", "message_id": "m-1", \#(time)}"#, "event 2: type is missing"),
                (#"{"type": "opened", "message_id": "m-1", \#(time)}"#, "event 2: id is missing"),
                (#"{"id": "x", "type": "opened", "message_id": "m-1", "data": [1], \#(time)}"#,
                 "event 2: data must be an object"),
                (#""opened""#, "event 2: is not a JSON object"),
            ]
            for (bad, reason) in cases {
                let reply = try await f.webhook("[" + good + "," + bad + "]")
                #expect(reply.status == 400, "\(bad): \(reply.text)")
                #expect(reply.text.contains(reason), "\(bad): \(reply.text)")
            }
            #expect(try await f.count("SELECT count(*) FROM responses") == 0)
            #expect(try await f.count("SELECT count(*) FROM provider_events") == 0)
            #expect(try await f.suppression(customer) == nil)
        }
    }
}
