import CicloChannels
import CicloDelivery
import CicloQueue
import CicloWorker
import Postgres

/// Email jobs of a stored campaign drained by one in-process worker through the worker's own channel handler
/// (`ChannelHandler`: the job's customer and campaign read, the template looked up, the values built, the links
/// signed, the email rendered with tracking), with a transport that only checks the message: everything a real
/// send costs the worker except the provider. `make bench-render` applies examples/campaigns/winback-recurring.yaml
/// first; every job uses its variant A in English.
struct EmailJobsFigure {
    let target: BenchTarget
    let setup: QueueSetup
    let jobs: Int

    static let campaignKey = "winback-cycle"

    func rate() async throws -> Double {
        let admin = setup.admin
        guard let campaignID = try await admin.query(
            "SELECT id FROM campaigns WHERE key = $1", [Self.campaignKey]).first?.decode(Int64.self, at: 0)
        else {
            throw BenchError(
                "campaign \(Self.campaignKey) is not stored: apply examples/campaigns/winback-recurring.yaml")
        }
        try await setup.reset(enqueue: jobs)
        try await admin.query("""
            UPDATE send_jobs SET campaign_id = $1,
                   payload = '{"variant": "A", "variables": {"offer_code": "COMEBACK10"}, "occasion": 1}'
            """, [campaignID])
        try await admin.executeScript("VACUUM ANALYZE send_jobs")
        let start = try await setup.now()
        try await target.withConnection("bench-email-templates") { lookups in
            let configuration = DeliveryConfiguration(
                publicBaseURL: "https://ciclo.example", tokenSecret: "bench-token-secret-0123456789",
                unsubscribeMailbox: "unsubscribe@bench.example", defaultFrom: "Ciclo Loja <ofertas@bench.example>")
            let handler = ChannelHandler(
                configuration: configuration, transports: DeliveryTransports(email: CheckedNullEmail()),
                templates: TemplateStore(connection: lookups), logger: BenchTarget.logger)
            try await target.drain(with: handler)
        }
        let (count, seconds) = try await setup.drained(since: start)
        guard count == jobs else {
            let outcomes = try await admin.query(
                "SELECT outcome || ' ' || coalesce(reason, '') || ': ' || count(*) FROM deliveries GROUP BY 1")
                .map { try $0.decode(String.self, at: 0) }
            throw BenchError("sent \(count) of \(jobs) email jobs: \(outcomes)")
        }
        return Double(count) / max(seconds, 1e-6)
    }
}

/// An email transport that delivers nowhere, after checking that the message has a body.
struct CheckedNullEmail: EmailTransport {
    func send(_ email: EmailEnvelope) async -> TransportResult {
        email.message.count > 1_000
            ? .delivered(providerMessageID: nil)
            : .failed(message: "a \(email.message.count)-byte message", permanent: true, retryAfter: nil)
    }
}
