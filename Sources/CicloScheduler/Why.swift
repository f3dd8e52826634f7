import Foundation
import Postgres

/// "Why did customer X not get campaign Y?": the decision log for the pair, with what became of each send.
public struct Why: Sendable {
    public struct Decision: Sendable {
        public var occasion: Int64
        public var outcome: String
        public var reason: String?
        public var variant: String?
        public var dueAt: Date
        public var decidedAt: Date
        public var idempotencyKey: String?
        /// What the worker did with a queued send: sent, suppressed (with its reason), failed...; nil while queued.
        public var delivery: String?
    }

    public struct Answer: Sendable {
        public var customer: String
        public var campaign: String
        public var channel: String
        public var consent: Bool
        public var suppression: String?
        public var decisions: [Decision]
    }

    public init() {}

    static let customerSQL = """
        SELECT c.id, c.external_id, k.id, k.key, k.channel,
               coalesce((SELECT granted FROM consents WHERE customer_id = c.id AND channel = k.channel), false),
               (SELECT reason FROM suppressions WHERE customer_id = c.id AND channel = k.channel)
        FROM customers c, campaigns k
        WHERE c.external_id = $1 AND k.key = $2
        """
    /// The one query: every occasion decided for the pair, newest first, with the delivery of each queued send.
    static let decisionsSQL = """
        SELECT d.occasion, d.outcome, d.reason, d.variant, d.due_at, d.decided_at, d.idempotency_key,
               (SELECT dl.outcome || coalesce(' (' || dl.reason || ')', '') FROM deliveries dl
                 WHERE dl.idempotency_key = d.idempotency_key ORDER BY dl.finished_at DESC LIMIT 1)
        FROM send_decisions d
        WHERE d.customer_id = $1 AND d.campaign_id = $2
        ORDER BY d.occasion DESC
        LIMIT $3
        """

    public enum Problem: Error, CustomStringConvertible {
        case notFound(customer: String, campaign: String)
        public var description: String {
            switch self {
            case .notFound(let customer, let campaign):
                return "no customer with external id \"\(customer)\" or no campaign \"\(campaign)\""
            }
        }
    }

    public func explain(customer: String, campaign: String, limit: Int = 20, on conn: PostgresConnection)
        async throws -> Answer
    {
        guard let row = try await conn.query(Self.customerSQL, [customer, campaign]).first else {
            throw Problem.notFound(customer: customer, campaign: campaign)
        }
        let customerID: Int64 = try row.decode(at: 0)
        let campaignID: Int64 = try row.decode(at: 2)
        var answer = Answer(customer: try row.decode(at: 1), campaign: try row.decode(at: 3),
                            channel: try row.decode(at: 4), consent: try row.decode(at: 5),
                            suppression: try row.decode(at: 6), decisions: [])
        for d in try await conn.query(Self.decisionsSQL, [customerID, campaignID, limit]) {
            answer.decisions.append(Decision(
                occasion: try d.decode(at: 0), outcome: try d.decode(at: 1), reason: try d.decode(at: 2),
                variant: try d.decode(at: 3), dueAt: try d.decode(at: 4), decidedAt: try d.decode(at: 5),
                idempotencyKey: try d.decode(at: 6), delivery: try d.decode(at: 7)))
        }
        return answer
    }
}
