import CicloTestSupport
import Foundation
import Testing

/// `POST /events` through a real `ciclo reporter`: a bearer token, one event or a batch, checked by the import's
/// own rules; a batch with one bad item is refused whole.
@Suite("Reporter event ingestion, end to end")
struct EventIngestTests {
    func post(_ f: ReporterFixture, _ body: String, token: String?) async throws -> HTTPExchange.Reply {
        var headers = ["Content-Type": "application/json"]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        return try await f.http("POST", "/events", headers: headers, body: body)
    }

    @Test("good events are stored once; bad JSON, unknown customers, missing fields and wrong tokens store nothing")
    func goodAndBad() async throws {
        try await ReporterFixture.with { f in
            _ = try await f.customer("c-1", email: "one@example.com")
            _ = try await f.customer("c-2", email: "two@example.com")
            let events = { try await f.count("SELECT count(*) FROM events") }

            let one = #"{"customer": "c-1", "kind": "purchase", "time": "2026-03-01T09:30:00Z", "payload": {"amount": 42.5}}"#
            let single = try await post(f, one, token: f.eventsToken)
            #expect(single.status == 200, "\(single.text)")
            #expect(single.text == #"{"duplicates":0,"received":1,"stored":1}"#)

            let batch = """
                [{"customer": "c-1", "kind": "login", "time": "2026-03-02T08:00:00Z", "id": "src-1"},
                 {"customer": "c-2", "kind": "deposit", "time": "2026-03-02T08:05:00+01:00", "payload": {"amount": 10}}]
                """
            #expect(try await post(f, batch, token: f.eventsToken).text == #"{"duplicates":0,"received":2,"stored":2}"#)
            #expect(try await post(f, batch, token: f.eventsToken).text == #"{"duplicates":2,"received":2,"stored":0}"#)
            #expect(try await events() == 3)
            let amount = try await f.conn.query(
                "SELECT payload->>'amount' FROM events WHERE kind = 'purchase'").scalar(String.self)
            #expect(amount == "42.5")

            let refusals: [(body: String, token: String?, status: Int, says: String)] = [
                ("[{\"customer\": \"c-1\", ", f.eventsToken, 400, "the body is not valid JSON"),
                ("""
                 [{"customer": "c-1", "kind": "login", "time": "2026-03-03T08:00:00Z"},
                  {"customer": "nobody", "kind": "login", "time": "2026-03-03T08:00:00Z"},
                  {"customer": "c-2", "kind": "login", "time": "2026-03-03T08:00:00Z"}]
                 """, f.eventsToken, 400, #"item 2: customer \"nobody\" is unknown"#),
                (#"[{"customer": "c-1", "kind": "login", "time": "2026-03-03T08:00:00Z"}, {"customer": "c-2", "kind": "login"}]"#,
                 f.eventsToken, 400, "item 2: time is missing"),
                (#"{"customer": "c-1", "time": "2026-03-03T08:00:00Z"}"#, f.eventsToken, 400, "item 1: kind is missing"),
                (#"[{"customer": "c-1", "kind": "x", "time": "2026-03-03T08:00:00Z"}, 7]"#, f.eventsToken, 400,
                 "item 2: is not a JSON object"),
                ("[]", f.eventsToken, 400, "the batch holds no events"),
                (one, "not-the-token", 401, "A valid bearer token is required"),
                (one, nil, 401, "A valid bearer token is required"),
            ]
            for refusal in refusals {
                let reply = try await post(f, refusal.body, token: refusal.token)
                #expect(reply.status == refusal.status, "\(refusal.body): \(reply.text)")
                #expect(reply.text.contains(refusal.says), "\(refusal.body): \(reply.text)")
            }
            #expect(try await events() == 3, "a refused batch stored part of itself")
        }
    }

    @Test("without CICLO_EVENTS_TOKEN, event ingestion is off")
    func off() async throws {
        try await ReporterFixture.with(environment: ["CICLO_EVENTS_TOKEN": ""]) { f in
            let reply = try await post(f, "{}", token: "anything")
            #expect(reply.status == 503)
            #expect(reply.text.contains("CICLO_EVENTS_TOKEN"))
        }
    }
}
