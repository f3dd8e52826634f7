import CicloChannels
import CicloQueue
import Foundation
import Logging
import Postgres
import Synchronization

/// `ciclo preview`: one customer's send of one campaign, rendered by the worker's own handler from the same
/// customer and campaign fields a claim returns, and caught before any transport. Nothing is sent, queued or
/// recorded.
///
/// Links and signatures are made with throwaway secrets: they look as they would be sent, but the reporter and a
/// webhook's receiver refuse them, so output pasted anywhere (or fetched by a link scanner) cannot unsubscribe the
/// customer, count an open or a click, or pass for a webhook.
public struct Preview: Sendable {
    /// What a worker would do with the send.
    public struct Result: Sendable {
        public var channel: String
        public var variant: String
        public var idempotencyKey: String
        /// Why the worker would not send it at all (no consent, suppressed), checked as at claim time.
        public var blockedReason: String?
        /// The handler's outcome: `sent` when the message below was caught; else why not.
        public var outcome: JobOutcome
        public var message: Captured?

        /// Whether a worker would send the message: the customer may be contacted and the handler sent it.
        public var wouldSend: Bool {
            guard blockedReason == nil, case .sent = outcome else { return false }
            return true
        }
    }

    /// The message as it would have reached its transport.
    public enum Captured: Sendable {
        case email(EmailEnvelope)
        case http(HTTPMessage)
    }

    /// What names no campaign or customer.
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// The customer (by external id) and campaign (by key) as a claimed job of theirs would carry them.
    static let sendSQL = """
        SELECT j.customer_id, j.campaign_id, \(SendQueue.sendColumnsSQL)
        FROM (SELECT c.id AS customer_id, k.id AS campaign_id, $3::text AS channel, NULL::timestamptz AS expires_at
              FROM customers c, campaigns k WHERE c.external_id = $1 AND k.key = $2) j
        """

    static let existsSQL = """
        SELECT EXISTS (SELECT 1 FROM customers WHERE external_id = $1),
               EXISTS (SELECT 1 FROM campaigns WHERE key = $2)
        """

    let configuration: DeliveryConfiguration
    let logger: Logger

    public init(configuration: DeliveryConfiguration, logger: Logger) {
        var configuration = configuration
        configuration.tokenSecret = Self.throwawaySecret()
        configuration.webhook?.secret = Self.throwawaySecret()
        self.configuration = configuration
        self.logger = logger
    }

    /// 256 random bits in hex, used for one preview and forgotten.
    static func throwawaySecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(generator.next() as UInt64, radix: 16) }.joined(separator: "-")
    }

    /// Renders campaign `campaign`'s send to customer `customer` on `channel` with `variant` and the campaign's
    /// `variables`, under the key `ciclo preview` shows (the Message-ID and link tokens come from it).
    public func render(
        campaign: String, customer: String, channel: String, variant: String, variables: [String: String],
        on conn: PostgresConnection
    ) async throws -> Result {
        let rows = try await conn.query(Self.sendSQL, [customer, campaign, channel])
        guard let row = rows.first else {
            let exists = try await conn.query(Self.existsSQL, [customer, campaign]).first
            let customerExists: Bool = try exists?.decode(at: 0) ?? false
            throw Problem(
                description: customerExists
                    ? "no campaign has the key \"\(campaign)\"" : "no customer has the external id \"\(customer)\"")
        }
        let key = "preview:\(campaign):\(customer)"
        // The scheduler's payload also carries the occasion, which rendering does not read.
        let payload = try JSONSerialization.data(
            withJSONObject: ["variant": variant, "variables": variables], options: [.sortedKeys])
        let job = ClaimedJob(
            id: 0, campaignID: try row.decode(at: 1), customerID: try row.decode(at: 0), channel: channel,
            idempotencyKey: key, priority: 0, attempt: 1, maxAttempts: 1,
            payload: JSONB(String(decoding: payload, as: UTF8.self)), runAt: PostgresTimestamp(Date()),
            blockedReason: try row.decode(at: 2), customer: try row.decode(at: 3), campaign: try row.decode(at: 4))
        let catcher = Catcher()
        let handler = ChannelHandler(
            configuration: configuration,
            transports: DeliveryTransports(email: catcher, sms: catcher, push: catcher, webhook: catcher),
            templates: TemplateStore(connection: conn), logger: logger)
        let outcome = await handler.handle(job)
        return Result(
            channel: channel, variant: variant, idempotencyKey: key, blockedReason: job.blockedReason,
            outcome: outcome, message: catcher.caught.withLock { $0 })
    }
}

/// A transport for every channel that keeps the message and reports it delivered.
private final class Catcher: EmailTransport, HTTPTransport, Sendable {
    let caught = Mutex<Preview.Captured?>(nil)

    func send(_ email: EmailEnvelope) async -> TransportResult {
        caught.withLock { $0 = .email(email) }
        return .delivered(providerMessageID: nil)
    }

    func send(_ request: HTTPMessage) async -> TransportResult {
        caught.withLock { $0 = .http(request) }
        return .delivered(providerMessageID: nil)
    }
}
