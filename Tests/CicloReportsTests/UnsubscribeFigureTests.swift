import CicloReports
import CicloTestSupport
import Foundation
import Testing

/// Unsubscribes reach the figures from two places, the one-click link and a provider's webhook (an SMS STOP, a
/// list-unsubscribe): both are `unsubscribe` responses, so a send counts once however many arrive.
@Suite(.serialized) struct UnsubscribeFigureTests {
    static let recordSQL = """
        INSERT INTO responses (idempotency_key, customer_id, campaign_id, kind, channel, provider, provider_event_id,
                               occurred_at)
        VALUES ($1, $2, $3, 'unsubscribe', 'email', $4, $5, $6::timestamptz)
        """

    @Test("a provider's unsubscribe after the link's, folded in a later pass, counts once per send and verifies")
    func providerAndLinkUnsubscribesCountOncePerSend() async throws {
        try await ReportFixture.with { f in
            let first = try await f.customers(3, prefix: "u")
            let campaign = try await f.campaign("stop")
            try await f.sends(campaign: campaign, key: "u", firstCustomer: first, count: 3, at: "2026-05-01T10:00:00Z")
            // Send 1 unsubscribes through the link and is folded; then the provider reports send 1's unsubscribe
            // too, and send 2's alone. Send 3 stays subscribed.
            try await f.conn.query(Self.recordSQL, [
                "u-1", first, campaign, String?.none, String?.none, "2026-05-01T11:00:00Z",
            ])
            #expect(try await f.ciclo(["aggregate", "--once"]).0 == 0)
            try await f.conn.query(Self.recordSQL, ["u-1", first, campaign, "esp", "stop-1", "2026-05-01T11:05:00Z"])
            try await f.conn.query(Self.recordSQL, [
                "u-2", first + 1, campaign, "esp", "stop-2", "2026-05-01T11:10:00Z",
            ])
            #expect(try await f.ciclo(["aggregate", "--once"]).0 == 0)

            let line = try await f.report(["--campaign", "stop"]).campaign("stop")
            #expect(line.figures.unsubscribes == 2)
            #expect(abs((line.kpis.unsubscribeRate ?? 0) - 2.0 / 3.0) < 1e-9, "\(line.kpis)")
            let (matches, output) = try await f.verify()
            #expect(matches, "\(output)")
        }
    }
}
