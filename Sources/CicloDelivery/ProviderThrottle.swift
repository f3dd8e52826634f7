import Foundation
import Logging
import Postgres

/// A provider's rate limit shared by every worker on every server: a token bucket in `provider_limits` (0017),
/// refilled from the time elapsed, from which each worker takes a tenth of a second's worth at a time and spends
/// it locally. Tokens are only ever granted by the database, so the sum over all workers holds the rate (plus the
/// configured burst); a worker that stops with tokens in hand only sends less.
///
/// A channel without a row is not limited, and costs a look-up every `recheck`, so a limit set later by
/// `ciclo config apply` reaches running workers within that time.
public actor ProviderThrottle {
    public enum Permit: Sendable, Equatable {
        case go
        /// No token within the wait: the send goes back to the queue, and this is about when to try again.
        case throttled(retryAfter: Duration)
    }

    let provider: String
    let connection: PostgresConnection
    let maxWait: Duration
    let recheck: Duration
    let logger: Logger

    private var tokens = 0
    private var unlimitedUntil: ContinuousClock.Instant?
    /// After a refill that granted nothing: when the bucket will hold a whole token again.
    private var notBefore: ContinuousClock.Instant = .now
    private var perSecond = 1.0
    private var pending: Task<Void, Never>?

    public init(provider: String, connection: PostgresConnection, maxWait: Duration = .seconds(10),
                recheck: Duration = .seconds(10), logger: Logger) {
        self.provider = provider
        self.connection = connection
        self.maxWait = maxWait
        self.recheck = recheck
        self.logger = logger
    }

    /// Takes up to $2 whole tokens from the provider's bucket after refilling it for the time since its last refill
    /// (capped at the burst). Returns what was granted, the rate, and the tokens left (a fraction when empty). One
    /// row per provider, locked for the statement only; the update changes no indexed column, so it is HOT.
    static let takeSQL = """
        WITH bucket AS (
            SELECT l.provider, l.per_second, n.at,
                   least(l.burst, l.tokens + l.per_second * greatest(0, extract(epoch FROM n.at - l.refilled_at))) AS have
            FROM provider_limits l, (SELECT clock_timestamp() AS at) n
            WHERE l.provider = $1
            FOR UPDATE OF l
        )
        UPDATE provider_limits p
        SET tokens = b.have - least(floor(b.have), $2::int4), refilled_at = b.at
        FROM bucket b
        WHERE p.provider = b.provider
        RETURNING least(floor(b.have), $2::int4)::int4, b.per_second, b.have - least(floor(b.have), $2::int4)
        """

    /// Waits for a token, up to `maxWait`.
    public func acquire() async -> Permit {
        let deadline = ContinuousClock.now + maxWait
        while true {
            if tokens > 0 {
                tokens -= 1
                return .go
            }
            if let until = unlimitedUntil, ContinuousClock.now < until { return .go }
            let now = ContinuousClock.now
            if now < notBefore {
                if notBefore > deadline { return .throttled(retryAfter: notBefore - now) }
                try? await Task.sleep(until: notBefore, clock: .continuous)
                continue
            }
            if now >= deadline { return .throttled(retryAfter: .seconds(1)) }
            await refill()
        }
    }

    /// One look-up at a time: callers that arrive meanwhile wait for it and then look at the tokens again.
    private func refill() async {
        if let pending { return await pending.value }
        let task = Task { await self.take() }
        pending = task
        await task.value
    }

    private func take() async {
        // Cleared by the look-up itself, before any waiter resumes: a waiter that found the finished task still
        // pending would await it again without suspending, and spin on the actor.
        defer { pending = nil }
        // A tenth of a second's worth, so that several workers share the rate evenly instead of one hoarding it.
        let want = max(1, min(1_000, Int(perSecond / 10)))
        do {
            guard let row = try await connection.query(Self.takeSQL, [provider, want], prepared: true).first else {
                unlimitedUntil = .now + recheck
                return
            }
            unlimitedUntil = nil
            let granted: Int = try row.decode(at: 0)
            perSecond = try row.decode(at: 1)
            let left: Double = try row.decode(at: 2)
            tokens += granted
            if granted == 0 {
                notBefore = .now + .milliseconds(Int64(max(1, (1 - left) / perSecond * 1000).rounded(.up)))
            }
        } catch {
            // Fail closed: without the database no worker can tell whether the provider may take more.
            logger.warning("provider limit unavailable", metadata: ["provider": "\(provider)", "error": "\(error)"])
            notBefore = .now + .seconds(1)
        }
    }
}
