import Postgres

/// A send to enqueue. The idempotency key names the logical send: enqueueing the same key twice, ever, is a no-op.
public struct NewJob: Sendable, Hashable {
    public var idempotencyKey: String
    public var campaignID: Int64?
    public var customerID: Int64
    public var channel: String
    public var priority: Int16
    public var runAt: PostgresTimestamp?
    public var maxAttempts: Int32
    public var payload: JSONB

    public init(
        idempotencyKey: String, campaignID: Int64? = nil, customerID: Int64, channel: String, priority: Int16 = 0,
        runAt: PostgresTimestamp? = nil, maxAttempts: Int32 = 5, payload: JSONB = JSONB("{}")
    ) {
        self.idempotencyKey = idempotencyKey
        self.campaignID = campaignID
        self.customerID = customerID
        self.channel = channel
        self.priority = priority
        self.runAt = runAt
        self.maxAttempts = maxAttempts
        self.payload = payload
    }
}

/// A job a worker holds under its lease.
public struct ClaimedJob: Sendable, Hashable {
    public var id: Int64
    public var campaignID: Int64?
    public var customerID: Int64
    public var channel: String
    public var idempotencyKey: String
    public var priority: Int16
    /// This attempt's number, starting at 1.
    public var attempt: Int
    public var maxAttempts: Int
    public var payload: JSONB
    public var runAt: PostgresTimestamp
    /// The claim this job was leased under (0019_lease_tokens.sql): outcomes and heartbeats name it, so that an
    /// older claim's outcome never lands on a newer one.
    public var leaseToken: Int64
    /// nil when the customer may be contacted on this channel; otherwise why not (re-checked at claim time).
    public var blockedReason: String?
    /// The customer's contact fields, locale, stage, persona and attributes, as they were at claim time.
    public var customer: CustomerText?
    /// The campaign's key, name, kind and delivery settings (its definition's `delivery`); nil for a send outside
    /// any campaign.
    public var campaign: JSONB?

    public init(
        id: Int64, campaignID: Int64?, customerID: Int64, channel: String, idempotencyKey: String, priority: Int16,
        attempt: Int, maxAttempts: Int, payload: JSONB, runAt: PostgresTimestamp, leaseToken: Int64 = 0,
        blockedReason: String?, customer: CustomerText? = nil, campaign: JSONB? = nil
    ) {
        self.leaseToken = leaseToken
        self.customer = customer
        self.campaign = campaign
        self.id = id
        self.campaignID = campaignID
        self.customerID = customerID
        self.channel = channel
        self.idempotencyKey = idempotencyKey
        self.priority = priority
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.payload = payload
        self.runAt = runAt
        self.blockedReason = blockedReason
    }

    /// A job and the claim it is held under.
    public struct Lease: Sendable, Hashable {
        public var id: Int64
        public var token: Int64
    }

    public var lease: Lease { Lease(id: id, token: leaseToken) }
}

/// How a delivery attempt ended.
public enum JobOutcome: Sendable, Hashable {
    /// Handed to the provider; the provider's message id when it gave one.
    case sent(providerMessageID: String?)
    /// Not sent, on purpose, with the reason (no_consent, render_failed, quiet_hours...). Final.
    case suppressed(reason: String)
    /// Not sent because it no longer applies (expired, campaign archived). Final.
    case cancelled(reason: String)
    /// The attempt failed. Transient failures are retried with backoff; permanent ones fail the job at once.
    case failed(DeliveryFailure)
    /// Not attempted, or refused by the provider as too fast (HTTP 429): back to due after `retryAfter` (else a
    /// second or so), without counting the attempt, however often it happens.
    case throttled(message: String, retryAfter: Duration?)
}

/// A failed attempt, classified.
public struct DeliveryFailure: Error, Sendable, Hashable {
    public var message: String
    public var permanent: Bool
    /// A provider's `Retry-After`: the retry waits at least this long.
    public var retryAfter: Duration?

    public init(message: String, permanent: Bool, retryAfter: Duration? = nil) {
        self.message = message
        self.permanent = permanent
        self.retryAfter = retryAfter
    }

    public static func transient(_ message: String, retryAfter: Duration? = nil) -> DeliveryFailure {
        DeliveryFailure(message: message, permanent: false, retryAfter: retryAfter)
    }

    public static func permanent(_ message: String) -> DeliveryFailure {
        DeliveryFailure(message: message, permanent: true)
    }
}

/// Exponential backoff with full jitter, capped: attempt n waits a uniformly random time in
/// [0, min(cap, base × 2^(n-1))], so retries of many jobs that failed together spread out instead of returning as
/// one wave.
public struct RetryPolicy: Sendable, Hashable {
    public var base: Duration
    public var cap: Duration

    public init(base: Duration = .seconds(2), cap: Duration = .seconds(600)) {
        self.base = base
        self.cap = cap
    }

    /// The delay before the retry that follows failed attempt `attempt` (1-based).
    public func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil,
                      random: (ClosedRange<Double>) -> Double = { Double.random(in: $0) }) -> Duration {
        let baseMs = Double(base.components.seconds) * 1000 + Double(base.components.attoseconds) / 1e15
        let capMs = Double(cap.components.seconds) * 1000 + Double(cap.components.attoseconds) / 1e15
        let ceiling = min(capMs, baseMs * pow2(max(0, attempt - 1)))
        var delay = random(0...ceiling)
        if let retryAfter {
            let floor = Double(retryAfter.components.seconds) * 1000 + Double(retryAfter.components.attoseconds) / 1e15
            delay = max(delay, floor)
        }
        return .milliseconds(Int64(delay.rounded()))
    }

    private func pow2(_ n: Int) -> Double { n >= 60 ? .greatestFiniteMagnitude : Double(UInt64(1) << UInt64(n)) }
}
