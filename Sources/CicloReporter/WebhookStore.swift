import Foundation
import Postgres

/// Stores provider events: each once (provider_events, in the same transaction as its response), tied to its send,
/// with the suppressions a hard bounce, a complaint, an unsubscribe or too many soft bounces call for. Nothing is
/// ever undone by a later event: responses are only added and suppressions only created, so events may arrive in
/// any order.
struct WebhookStore: Sendable {
    let softBounces: SoftBouncePolicy
    let tracking = TrackingStore()

    /// The send an event names, by Ciclo's idempotency key or the provider's message id; from deliveries, or from
    /// the queue while the worker has not recorded it yet. Served by deliveries_send (0016),
    /// deliveries_provider_message (0014) and send_jobs' unique key.
    static let findSendSQL = """
        SELECT idempotency_key, customer_id, campaign_id, channel FROM (
            SELECT d.idempotency_key, d.customer_id, d.campaign_id, d.channel, 1 AS preference, d.finished_at
            FROM deliveries d WHERE d.idempotency_key = $1
            UNION ALL
            SELECT d.idempotency_key, d.customer_id, d.campaign_id, d.channel, 2, d.finished_at
            FROM deliveries d WHERE d.provider_message_id = $2
            UNION ALL
            SELECT j.idempotency_key, j.customer_id, j.campaign_id, j.channel, 3, NULL
            FROM send_jobs j WHERE j.idempotency_key = $1
        ) s
        ORDER BY preference, finished_at DESC
        LIMIT 1
        """

    /// Claims the event id; no row back means it was stored before.
    static let claimEventSQL = """
        INSERT INTO provider_events (provider, event_id) VALUES ($1, $2)
        ON CONFLICT (provider, event_id) DO NOTHING
        RETURNING 1
        """

    /// The same upsert as the one-click unsubscribe's (TrackingStore): an existing suppression keeps its reason, and
    /// a customer deleted since the send (deliveries keep no foreign key) suppresses nothing instead of failing the
    /// batch on suppressions' foreign key, which the provider would retry for ever.
    static let suppressSQL = """
        INSERT INTO suppressions (customer_id, channel, reason)
        SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM customers WHERE id = $1)
        ON CONFLICT (customer_id, channel) DO NOTHING
        """

    /// Serialises the soft-bounce count of one customer and channel, so two bounces at once cannot both count
    /// short of the limit.
    static let lockChannelSQL = "SELECT pg_advisory_xact_lock(hashtextextended('ciclo.soft_bounce:' || $1 || ':' || $2, 0))"

    /// Suppresses after `$3` soft bounces within `$4` seconds, counting only those after the latest delivery by the
    /// provider's times (and, as suppressSQL, only for a customer that still exists). Served by responses_customer
    /// (customer_id, occurred_at).
    static let softBounceSQL = """
        INSERT INTO suppressions (customer_id, channel, reason)
        SELECT $1, $2, 'soft_bounces'
        WHERE EXISTS (SELECT 1 FROM customers WHERE id = $1)
          AND (SELECT count(*) FROM responses r
               WHERE r.customer_id = $1 AND r.channel = $2 AND r.kind = 'bounce_soft'
                 AND r.occurred_at > now() - $4::float8 * interval '1 second'
                 AND r.occurred_at > coalesce(
                     (SELECT max(d.occurred_at) FROM responses d
                       WHERE d.customer_id = $1 AND d.channel = $2 AND d.kind = 'delivered'),
                     '-infinity')) >= $3
        ON CONFLICT (customer_id, channel) DO NOTHING
        """

    enum Result: Sendable { case stored, duplicate, unmatched }

    /// Stores one event in its own transaction.
    func store(_ event: ProviderEvent, provider: String, on conn: PostgresConnection) async throws -> Result {
        try await conn.withTransaction { conn in
            guard let send = try await conn.query(
                Self.findSendSQL, [event.idempotencyKey, event.messageID], prepared: true).first
            else { return .unmatched }
            guard !(try await conn.query(Self.claimEventSQL, [provider, event.id], prepared: true)).isEmpty else {
                return .duplicate
            }
            let key: String = try send.decode(at: 0)
            let customer: Int64 = try send.decode(at: 1)
            let channel: String = try send.decode(at: 3)
            try await conn.query(TrackingStore.recordSQL, [
                key, customer, try send.decode(Int64?.self, at: 2), event.type, channel, false, provider, event.id,
                event.data, event.occurredAt,
            ], prepared: true)
            switch event.type {
            case "bounce_hard": try await conn.query(Self.suppressSQL, [customer, channel, "hard_bounce"])
            case "complaint": try await conn.query(Self.suppressSQL, [customer, channel, "complaint"])
            // The reason the one-click link records, so "why is this channel suppressed?" reads the same.
            case "unsubscribe": try await conn.query(Self.suppressSQL, [customer, channel, "unsubscribed"])
            case "bounce_soft":
                try await conn.query(Self.lockChannelSQL, [String(customer), channel])
                try await conn.query(Self.softBounceSQL, [
                    customer, channel, softBounces.limit, Double(softBounces.window.components.seconds),
                ])
            default: break
            }
            return .stored
        }
    }
}
