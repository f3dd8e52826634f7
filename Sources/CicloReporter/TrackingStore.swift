import CicloChannels
import Foundation
import Postgres

/// The statements behind the tracking endpoints and the webhooks: one `responses` row per outcome, and
/// suppressions. Every statement takes its values as parameters.
struct TrackingStore: Sendable {
    /// One response. The campaign, when the caller does not know it, is the send's: from its delivery, or from the
    /// queue while the worker has not recorded it yet. Served by deliveries_send (0016) and send_jobs' unique key.
    static let recordSQL = """
        INSERT INTO responses (idempotency_key, customer_id, campaign_id, kind, channel, machine, provider,
                               provider_event_id, data, occurred_at)
        SELECT $1, $2,
               coalesce($3::int8,
                        (SELECT d.campaign_id FROM deliveries d WHERE d.idempotency_key = $1
                          ORDER BY d.finished_at DESC LIMIT 1),
                        (SELECT j.campaign_id FROM send_jobs j WHERE j.idempotency_key = $1)),
               $4, $5, $6, $7, $8, $9::jsonb, coalesce($10::timestamptz, now())
        """

    /// Seconds since the send was delivered, by the database's clock (the one that stamped the delivery).
    static let sinceDeliverySQL = """
        SELECT extract(epoch FROM now() - finished_at)::float8 FROM deliveries
        WHERE idempotency_key = $1 AND outcome = 'sent'
        ORDER BY finished_at DESC LIMIT 1
        """

    /// Serialises unsubscribes of one send, so two at once record one response.
    static let lockSendSQL = "SELECT pg_advisory_xact_lock(hashtextextended('ciclo.unsubscribe:' || $1, 0))"

    /// Suppresses the channel (an existing suppression keeps its reason; consent is left as it is) and records
    /// the send's `unsubscribe` once, however often the link is posted.
    static let unsubscribeSQL = """
        WITH suppressed AS (
            INSERT INTO suppressions (customer_id, channel, reason)
            SELECT $2, $3, 'unsubscribed' WHERE EXISTS (SELECT 1 FROM customers WHERE id = $2)
            ON CONFLICT (customer_id, channel) DO NOTHING
            RETURNING 1
        ), recorded AS (
            INSERT INTO responses (idempotency_key, customer_id, campaign_id, kind, channel, data, occurred_at)
            SELECT $1, $2,
                   coalesce((SELECT d.campaign_id FROM deliveries d WHERE d.idempotency_key = $1
                              ORDER BY d.finished_at DESC LIMIT 1),
                            (SELECT j.campaign_id FROM send_jobs j WHERE j.idempotency_key = $1)),
                   'unsubscribe', $3, $4::jsonb, now()
            WHERE NOT EXISTS (SELECT 1 FROM responses r WHERE r.idempotency_key = $1 AND r.kind = 'unsubscribe')
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM suppressed), (SELECT count(*) FROM recorded)
        """

    /// A response to write.
    struct Response: Sendable {
        var key: String?
        var customer: Int64?
        var campaign: Int64? = nil
        var kind: String
        var channel: String?
        var machine = false
        var provider: String? = nil
        var providerEventID: String? = nil
        var data: [String: String] = [:]
        var occurredAt: Date? = nil
    }

    func record(_ response: Response, on conn: PostgresConnection) async throws {
        try await conn.query(Self.recordSQL, [
            response.key, response.customer, response.campaign, response.kind, response.channel, response.machine,
            response.provider, response.providerEventID, try JSONB(encoding: response.data).text, response.occurredAt,
        ], prepared: true)
    }

    func sinceDelivery(key: String, on conn: PostgresConnection) async throws -> Duration? {
        guard let seconds = try await conn.query(Self.sinceDeliverySQL, [key], prepared: true).first?
            .decode(Double.self, at: 0)
        else { return nil }
        return .milliseconds(Int64(seconds * 1000))
    }

    /// Suppresses the token's customer for its channel and records the unsubscribe; returns whether this call
    /// recorded it (false when the send's unsubscribe was recorded before).
    func unsubscribe(_ claims: SignedToken.Claims, method: String, on conn: PostgresConnection) async throws -> Bool {
        try await conn.withTransaction { conn in
            try await conn.query(Self.lockSendSQL, [claims.key])
            let row = try await conn.query(Self.unsubscribeSQL, [
                claims.key, claims.customer, claims.channel, try JSONB(encoding: ["method": method]).text,
            ]).single()
            return try row.decode(Int.self, at: 1) > 0
        }
    }
}
