import CicloChannels
import CicloTestSupport
import Foundation
import Testing

/// `ciclo worker --transport live` delivering SMS and webhooks to a real HTTP server (Python's http.server).
@Suite("SMS and webhook delivery, end to end")
struct HTTPDeliveryTests {
    /// The provider-neutral SMS body.
    struct SMSBody: Decodable, Equatable {
        var to, from, text, encoding: String
        var segments: Int
    }

    /// The webhook body: the send's key, the customer's external id, the campaign's key and the rendered parts.
    struct WebhookBody: Decodable, Equatable {
        var key: String
        var customer: String?
        var campaign: String?
        var message: [String: String]
    }

    /// The summer offer by SMS: variant A fits one segment, variant B needs two (the campaign allows one).
    static func smsCampaign(_ f: DeliveryFixture) async throws -> Int64 {
        let campaign = try await f.campaign("summer-sms-\(UUID().uuidString.prefix(8))", channel: "sms")
        try await f.template(campaign: campaign, locale: "pt", channel: "sms", parts: [
            "body": "Loja: Ola {{customer.first_name}}, use o codigo {{offer_code}} ate domingo."
        ])
        try await f.template(campaign: campaign, variant: "B", locale: "pt", channel: "sms", parts: [
            "body": "Loja: Ola {{customer.first_name}}, "
                + String(repeating: "a oferta de verao continua. ", count: 6) + "Codigo {{offer_code}}."
        ])
        return campaign
    }

    static func sms(_ server: HelperServer, _ path: String) -> [String: String] {
        ["CICLO_SMS_URL": "http://127.0.0.1:\(server.port)\(path)", "CICLO_SMS_COUNTRY_CODE": "351"]
    }

    @Test("SMS: E.164 number, encoding and segments in JSON, the key as Idempotency-Key; too long is suppressed")
    func smsDelivered() async throws {
        try await DeliveryFixture.with { f in
            let server = try await HelperServer.start(httpServerScript)
            defer { server.stopAndClean() }
            let campaign = try await Self.smsCampaign(f)
            let maria = try await f.customer("ext-maria", phone: "912 345 678", firstName: "Maria", consents: ["sms"])
            let rui = try await f.customer("ext-rui", phone: "+351 935 555 111", firstName: "Rui", consents: ["sms"])
            let key = try await f.enqueue(campaign: campaign, customer: maria, channel: "sms")
            let long = try await f.enqueue(
                campaign: campaign, customer: rui, channel: "sms",
                payload: #"{"variant": "B", "variables": {"offer_code": "VERAO25"}}"#)

            let run = try await f.drain("live", environment: Self.sms(server, "/ok"))
            #expect(run.status == 0, "stderr: \(run.stderr.suffix(2000))")

            let requests = try server.records(ReceivedRequest.self, in: "requests")
            try #require(requests.count == 1, "server stderr: \(server.stderr.suffix(1000))")
            let request = requests[0]
            #expect(request.method == "POST" && request.path == "/ok")
            #expect(request.header("Idempotency-Key") == [key])
            #expect(request.header("Content-Type") == ["application/json"])
            let body = try JSONDecoder().decode(SMSBody.self, from: request.body)
            #expect(body == SMSBody(
                to: "+351912345678", from: "Ciclo", text: "Loja: Ola Maria, use o codigo VERAO25 ate domingo.",
                encoding: "GSM-7", segments: 1))

            let delivery = try await f.delivery(key)
            #expect(delivery?.outcome == "sent" && delivery?.variant == "A")
            #expect(delivery?.providerMessageID == "msg-1")
            let suppressed = try await f.delivery(long)
            #expect(suppressed?.outcome == "suppressed" && suppressed?.reason == "sms_too_long")
            #expect(suppressed?.variant == "B")
        }
    }

    @Test("SMS: a 500 from the provider leaves the job due again, attempt 1 counted, the error kept")
    func smsServerErrorIsRetriedLater() async throws {
        try await DeliveryFixture.with { f in
            let server = try await HelperServer.start(httpServerScript)
            defer { server.stopAndClean() }
            let campaign = try await Self.smsCampaign(f)
            let maria = try await f.customer("ext-maria", phone: "912 345 678", firstName: "Maria", consents: ["sms"])
            let key = try await f.enqueue(campaign: campaign, customer: maria, channel: "sms")

            // The retry is scheduled up to 2 s later (full jitter), after the drain has found nothing due and exited.
            let run = try await f.drain("live", environment: Self.sms(server, "/boom"))
            #expect(run.status == 0, "stderr: \(run.stderr.suffix(2000))")

            let requests = try server.records(ReceivedRequest.self, in: "requests")
            #expect(requests.map(\.path) == ["/boom"])
            #expect(requests.first?.header("Idempotency-Key") == [key])
            let job = try #require(try await f.queued(key))
            #expect(job.state == "due")
            #expect(job.attempts == 1 && job.errorCount == 1)
            #expect(job.lastError?.hasPrefix("HTTP 500 from") == true, "\(job.lastError ?? "nil")")
            #expect(job.dueIn < 3, "the retry waits at most the first backoff step (2 s), got \(job.dueIn) s")
            #expect(try await f.delivery(key) == nil)
        }
    }

    @Test("webhook: the signed POST verifies with the shared secret, and not with another")
    func webhookSigned() async throws {
        try await DeliveryFixture.with { f in
            let server = try await HelperServer.start(httpServerScript)
            defer { server.stopAndClean() }
            let secret = "whsec-\(UUID().uuidString)"
            let campaign = try await f.campaign("summer-hook-\(UUID().uuidString.prefix(8))", channel: "webhook")
            let campaignKey = try await f.conn.query("SELECT key FROM campaigns WHERE id = $1", [campaign])
                .scalar(String.self)
            try await f.template(campaign: campaign, locale: "pt", channel: "webhook", parts: [
                "body": "Ola {{customer.first_name}}, codigo {{offer_code}}"
            ])
            let partner = try await f.customer("ext-partner-7", firstName: "Marta", consents: ["webhook"])
            let key = try await f.enqueue(campaign: campaign, customer: partner, channel: "webhook")

            let run = try await f.drain("live", environment: [
                "CICLO_WEBHOOK_URL": "http://127.0.0.1:\(server.port)/ok", "CICLO_WEBHOOK_SECRET": secret,
            ])
            #expect(run.status == 0, "stderr: \(run.stderr.suffix(2000))")

            let requests = try server.records(ReceivedRequest.self, in: "requests")
            try #require(requests.count == 1, "server stderr: \(server.stderr.suffix(1000))")
            let request = requests[0]
            let timestamp = request.header(WebhookSignature.timestampHeader).first
            let signature = request.header(WebhookSignature.signatureHeader).first
            #expect(throws: Never.self) {
                try WebhookSignature.verify(
                    body: request.body, timestamp: timestamp, signature: signature, secret: secret, now: Date())
            }
            #expect(throws: WebhookError.self) {
                try WebhookSignature.verify(
                    body: request.body, timestamp: timestamp, signature: signature, secret: secret + "x", now: Date())
            }
            #expect(request.header("Idempotency-Key") == [key])
            let body = try JSONDecoder().decode(WebhookBody.self, from: request.body)
            #expect(body == WebhookBody(
                key: key, customer: "ext-partner-7", campaign: campaignKey,
                message: ["body": "Ola Marta, codigo VERAO25"]))
            #expect(try await f.delivery(key)?.outcome == "sent")
        }
    }
}
