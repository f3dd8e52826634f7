import CicloQueue
import CicloTestSupport
import Foundation
import Postgres
import Testing

/// Provider throttling: the shared rate limit in provider_limits holds across several real worker processes, and
/// neither waiting on it nor a provider's 429 counts as a failed attempt.
@Suite("Provider rate limits and 429s")
struct ThrottleTests {
    static func smsCampaign(_ f: DeliveryFixture) async throws -> Int64 {
        let campaign = try await f.campaign("throttled-sms-\(UUID().uuidString.prefix(8))", channel: "sms")
        try await f.template(campaign: campaign, locale: "pt", channel: "sms", parts: [
            "body": "Ola {{customer.first_name}}, codigo {{offer_code}}."
        ])
        return campaign
    }

    /// `count` customers with SMS consent and a send each, in two statements.
    static func enqueue(_ count: Int, campaign: Int64, _ f: DeliveryFixture, maxAttempts: Int32 = 5) async throws
        -> [String]
    {
        let ids: [Int64] = try await f.conn.query("""
            WITH c AS (
                INSERT INTO customers (external_id, phone, locale, timezone, attributes)
                SELECT 'throttle-' || g, '+3519' || lpad(g::text, 8, '0'), 'pt', 'Europe/Lisbon', '{"first_name": "Rui"}'
                FROM generate_series(1, $1::int4) g
                RETURNING id
            ), granted AS (
                INSERT INTO consents (customer_id, channel, granted, source) SELECT id, 'sms', true, 'test' FROM c
            )
            SELECT id FROM c ORDER BY id
            """, [count]).map { try $0.decode(Int64.self, at: 0) }
        let jobs = ids.map {
            NewJob(idempotencyKey: "throttled-\(campaign)-\($0)", campaignID: campaign, customerID: $0, channel: "sms",
                   maxAttempts: maxAttempts, payload: JSONB(DeliveryFixture.offerPayload))
        }
        try await SendQueue().enqueue(jobs, on: f.conn)
        return jobs.map(\.idempotencyKey)
    }

    @Test("three workers together keep to 20 SMS a second with a burst of 5, and every send counts one attempt")
    func limitHoldsAcrossWorkers() async throws {
        try await DeliveryFixture.with { f in
            let server = try await HelperServer.start(httpServerScript)
            defer { server.stopAndClean() }
            let campaign = try await Self.smsCampaign(f)
            try await f.conn.query(
                "INSERT INTO provider_limits (provider, per_second, burst, tokens) VALUES ('sms', 20, 5, 5)")
            let keys = try await Self.enqueue(150, campaign: campaign, f)

            let environment = f.environment([
                "CICLO_SMS_URL": "http://127.0.0.1:\(server.port)/ok", "CICLO_SMS_COUNTRY_CODE": "351",
            ])
            let workers = try (0..<3).map { _ in
                try CicloRun.start(["worker", "--transport", "live", "--concurrency", "16", "--batch", "32"],
                                   url: f.db.url, environment: environment)
            }
            defer { for worker in workers { worker.stop() } }
            let done = try await eventually(.seconds(90)) {
                try await f.conn.query("SELECT count(*) FROM deliveries").scalar(Int.self) == keys.count
            }
            #expect(done, "\(workers.map { $0.stderr.suffix(500) })")
            for worker in workers { worker.signal(SIGTERM) }
            for worker in workers { #expect(await worker.wait(timeout: .seconds(30)) == 0) }

            let times = try server.records(ReceivedRequest.self, in: "requests").map(\.receivedAt).sorted()
            #expect(times.count == keys.count, "each send reached the provider once")
            // Tokens taken in any window of w seconds are at most rate × w + burst. The provider sees arrivals, and a
            // request's way from its token to the provider (the worker's task scheduled, the HTTP request sent) can
            // be late by a fraction of a second on a loaded machine, bunching arrivals: under the whole suite one
            // window once held 47 against 46. So the bound allows three quarters of a second of that (15 more at
            // 20/s), plus one for the window's edge; sending without the limit puts all 150 within about a second, so
            // a broken limit still fails it by far.
            let window = 2.0, lateness = 0.75
            var worst = 0
            for (i, start) in times.enumerated() {
                worst = max(worst, times[i...].prefix { $0 < start + window }.count)
            }
            #expect(worst <= Int(20 * (window + lateness)) + 5 + 1, "\(worst) requests within \(window) s")
            print("throttle: \(times.count) SMS, at most \(worst) in any \(window) s window, over \(times.last! - times.first!) s")
            // 150 sends at 20 a second after a burst of 5 cannot take less than (150 - 5) / 20 s.
            let span = (times.last ?? 0) - (times.first ?? 0)
            #expect(span >= 145.0 / 20 - 0.5, "all sends within \(span) s")
            let attempts = try await f.conn.query("SELECT DISTINCT attempts FROM deliveries WHERE outcome = 'sent'")
                .map { try $0.decode(Int.self, at: 0) }
            #expect(attempts == [1], "a wait on the limit is no attempt: \(attempts)")
        }
    }

    @Test("a 429 sends the job back after Retry-After without counting the attempt, even on its last one")
    func tooManyRequestsIsNotAnAttempt() async throws {
        try await DeliveryFixture.with { f in
            let server = try await HelperServer.start(httpServerScript)
            defer { server.stopAndClean() }
            let campaign = try await Self.smsCampaign(f)
            let key = try await Self.enqueue(1, campaign: campaign, f, maxAttempts: 1)[0]

            let run = try await f.drain("live", environment: [
                "CICLO_SMS_URL": "http://127.0.0.1:\(server.port)/throttle", "CICLO_SMS_COUNTRY_CODE": "351",
            ])
            #expect(run.status == 0, "stderr: \(run.stderr.suffix(2000))")
            let requests = try server.records(ReceivedRequest.self, in: "requests")
            #expect(requests.count == 1)
            let job = try #require(try await f.queued(key))
            #expect(job.state == "due", "one attempt allowed, and a 429 did not use it")
            #expect(job.attempts == 0 && job.errorCount == 0)
            #expect(job.lastError?.hasPrefix("throttled: HTTP 429 from") == true, "\(job.lastError ?? "nil")")
            // Due 7 s (Retry-After) plus up to 1 s of jitter after the 429 was answered: timed from when the provider
            // read the request, so a slow machine cannot fail it.
            let due = try await f.conn.query("SELECT extract(epoch FROM run_at)::float8 FROM send_jobs").scalar(Double.self)
            if let asked = requests.first?.receivedAt {
                #expect(due >= asked + 7 - 0.05 && due <= asked + 8 + 5, "due \(due - asked) s after the request")
            }
            #expect(try await f.delivery(key) == nil)
        }
    }
}
