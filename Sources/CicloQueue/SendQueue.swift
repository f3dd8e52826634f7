import Postgres

/// The send queue's statements: enqueue, claim, finish, fail, release, heartbeat and reap. Each is one set-based
/// statement over arrays, so a batch costs one round trip whatever its size. Every change a worker makes to a job
/// it claimed is guarded by state and lease owner: a worker that lost its lease changes nothing.
public struct SendQueue: Sendable {
    /// The NOTIFY channel the enqueue trigger and the queue's own statements wake workers on.
    public static let notifyChannel = "ciclo_send_jobs"

    public init() {}

    // MARK: Enqueue

    /// Registers each key in send_keys first and inserts only the jobs whose key is new, so a logical send is
    /// enqueued at most once in the database's lifetime. Duplicate keys within one call count once.
    static let enqueueSQL = """
        WITH input AS (
            SELECT DISTINCT ON (key) *
            FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::int2[], $6::timestamptz[], $7::int4[],
                        $8::jsonb[])
                 AS t(key, campaign_id, customer_id, channel, priority, run_at, max_attempts, payload)
            ORDER BY key
        ), registered AS (
            INSERT INTO send_keys (idempotency_key) SELECT key FROM input
            ON CONFLICT DO NOTHING
            RETURNING idempotency_key
        )
        INSERT INTO send_jobs (idempotency_key, campaign_id, customer_id, channel, priority, run_at, max_attempts, payload)
        SELECT i.key, i.campaign_id, i.customer_id, i.channel, i.priority, coalesce(i.run_at, now()), i.max_attempts,
               i.payload
        FROM input i JOIN registered r ON r.idempotency_key = i.key
        """

    /// Enqueues jobs in one statement and returns how many were new.
    @discardableResult
    public func enqueue(_ jobs: [NewJob], on conn: PostgresConnection) async throws -> Int {
        if jobs.isEmpty { return 0 }
        return try await conn.query(Self.enqueueSQL, [
            jobs.map(\.idempotencyKey), jobs.map(\.campaignID), jobs.map(\.customerID), jobs.map(\.channel),
            jobs.map(\.priority), jobs.map(\.runAt), jobs.map(\.maxAttempts), jobs.map(\.payload),
        ], prepared: true).affectedRows
    }

    // MARK: Claim

    /// Locks up to $2 due jobs in the order of send_jobs_claim (priority DESC, run_at, id), skipping rows other
    /// workers hold, and leases them to $1 in the same statement. The attempt is counted at claim time, so a worker
    /// that dies mid-send has still used it. Consent and suppression are re-checked here, just before delivery, and
    /// a job past its expires_at (a trigger's window, an ad hoc expiry) is blocked as 'expired'; the customer and campaign a handler needs to render come back with the job, so rendering costs no round trip.
    public static let claimSQL = """
        WITH picked AS (
            SELECT id FROM send_jobs
            WHERE state = 'due' AND run_at <= now()
              AND ($3::text[] IS NULL OR channel = ANY($3::text[]))
              AND ($4::int8 IS NULL OR campaign_id = $4::int8)
            ORDER BY priority DESC, run_at, id
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        )
        UPDATE send_jobs j
        SET state = 'running', lease_owner = $1, lease_expires_at = now() + $5::int8 * interval '1 millisecond',
            attempts = j.attempts + 1, lease_token = pg_current_xact_id()::text::int8
        FROM picked
        WHERE j.id = picked.id
        RETURNING j.id, j.campaign_id, j.customer_id, j.channel, j.idempotency_key, j.priority, j.attempts,
                  j.max_attempts, j.payload, j.run_at, j.lease_token, \(sendColumnsSQL)
        """

    /// What a handler needs besides the job, for a row `j` with customer_id, campaign_id, channel and expires_at:
    /// why the customer may not be contacted now (nil when they may), the customer (`CustomerText`), and the
    /// campaign's key, name, kind and delivery settings. Not the whole definition: with its templates it is
    /// kilobytes, which the server wrote out and the worker read in again for every job, for a few fields.
    /// Shared with `ciclo preview`, which renders a send the way a worker would, without a job.
    public static let sendColumnsSQL = """
        coalesce(
            CASE WHEN j.expires_at < now() THEN 'expired' END,
            (SELECT 'suppressed_' || s.reason FROM suppressions s
              WHERE s.customer_id = j.customer_id AND s.channel = j.channel),
            CASE WHEN NOT EXISTS (SELECT 1 FROM consents c WHERE c.customer_id = j.customer_id
                                    AND c.channel = j.channel AND c.granted)
                 THEN 'no_consent' END),
        (SELECT \(CustomerText.arraySQL)
           FROM customers c WHERE c.id = j.customer_id),
        (SELECT jsonb_build_object('key', k.key, 'name', k.name, 'kind', k.kind, 'delivery', k.definition -> 'delivery')
           FROM campaigns k WHERE k.id = j.campaign_id)
        """

    /// Claims up to `limit` due jobs for `owner` with a lease of `lease`.
    public func claim(
        owner: String, limit: Int, channels: [String]?, campaignID: Int64?, lease: Duration,
        on conn: PostgresConnection
    ) async throws -> [ClaimedJob] {
        let rows = try await conn.query(
            Self.claimSQL, [owner, limit, channels, campaignID, lease.milliseconds], prepared: true)
        return try rows.map { row in
            ClaimedJob(
                id: try row.decode(at: 0), campaignID: try row.decode(at: 1), customerID: try row.decode(at: 2),
                channel: try row.decode(at: 3), idempotencyKey: try row.decode(at: 4),
                priority: Int16(try row.decode(Int.self, at: 5)), attempt: try row.decode(at: 6),
                maxAttempts: try row.decode(at: 7), payload: try row.decode(at: 8), runAt: try row.decode(at: 9),
                leaseToken: try row.decode(at: 10), blockedReason: try row.decode(at: 11),
                customer: try row.decode(at: 12), campaign: try row.decode(at: 13))
        }
    }

    // MARK: Finish and fail

    /// Moves finished jobs (sent, suppressed, cancelled) from the queue to deliveries in one statement, so a job
    /// is either still queued or recorded, never both and never twice. The customer's stage at this moment goes
    /// with it: the reporter counts the send in the stage it was made in.
    ///
    /// A final outcome also lands when the worker's lease lapsed and the reaper put the job back (due, or failed
    /// on its last attempt) but nobody has claimed it since: the message went out, and refusing the outcome would
    /// send it again (or leave a delivered send failed for `ciclo retry` to double). Only a job running under
    /// another worker's lease refuses it; under READ COMMITTED a claim that commits first is seen here.
    public static let finishSQL = """
        WITH done AS (
            DELETE FROM send_jobs j
            USING unnest($2::int8[], $3::text[], $4::text[], $5::text[], $6::int8[])
                  AS r(id, outcome, reason, provider_message_id, token)
            WHERE j.id = r.id AND (j.state = 'running' AND j.lease_owner = $1 AND j.lease_token = r.token
                                   OR j.state IN ('due', 'failed') AND j.lease_owner IS NULL)
            RETURNING j.id, j.idempotency_key, j.campaign_id, j.customer_id, j.channel, j.attempts, j.errors,
                      r.outcome, r.reason, r.provider_message_id, j.payload->>'variant' AS variant
        )
        INSERT INTO deliveries (job_id, idempotency_key, campaign_id, customer_id, channel, outcome, reason, attempts,
                                errors, provider_message_id, variant, stage)
        SELECT d.id, d.idempotency_key, d.campaign_id, d.customer_id, d.channel, d.outcome, d.reason, d.attempts,
               d.errors, d.provider_message_id, d.variant, c.stage
        FROM done d LEFT JOIN customers c ON c.id = d.customer_id
        RETURNING job_id
        """

    /// Failed attempts: back to due after the given delay, or failed for good when permanent or out of attempts.
    /// Every attempt's error is appended to the job's history.
    static let failSQL = """
        UPDATE send_jobs j
        SET state = CASE WHEN r.permanent OR j.attempts >= j.max_attempts THEN 'failed' ELSE 'due' END,
            run_at = CASE WHEN r.permanent OR j.attempts >= j.max_attempts THEN j.run_at
                          ELSE now() + r.delay_ms * interval '1 millisecond' END,
            failed_at = CASE WHEN r.permanent OR j.attempts >= j.max_attempts THEN now() END,
            lease_owner = NULL, lease_expires_at = NULL, last_error = r.error,
            errors = j.errors || jsonb_build_array(jsonb_build_object(
                'attempt', j.attempts, 'at', now(), 'error', r.error, 'permanent', r.permanent, 'worker', $1::text))
        FROM unnest($2::int8[], $3::text[], $4::bool[], $5::int8[], $6::int8[]) AS r(id, error, permanent, delay_ms, token)
        WHERE j.id = r.id AND j.state = 'running' AND j.lease_owner = $1 AND j.lease_token = r.token
        RETURNING j.id, j.state
        """

    /// Throttled jobs (a provider's 429, or the shared rate limit): back to due after the delay with the attempt
    /// given back, so a throttle never brings a job nearer to failing. The reason is kept in last_error only; the
    /// errors history lists failed attempts.
    static let throttleSQL = """
        UPDATE send_jobs j
        SET state = 'due', run_at = now() + r.delay_ms * interval '1 millisecond', lease_owner = NULL,
            lease_expires_at = NULL, attempts = greatest(j.attempts - 1, 0), last_error = r.error
        FROM unnest($2::int8[], $3::text[], $4::int8[], $5::int8[]) AS r(id, error, delay_ms, token)
        WHERE j.id = r.id AND j.state = 'running' AND j.lease_owner = $1 AND j.lease_token = r.token
        RETURNING j.id
        """

    /// Text from handlers and providers (a reply line, a response body's excerpt, a provider's message id) as
    /// PostgreSQL can store it: U+0000 becomes U+FFFD. Text parameters refuse U+0000, and one in a batch failed the
    /// whole record on every retry, so that worker recorded nothing more while it kept sending.
    static func storable(_ text: String) -> String {
        guard text.utf8.contains(0) else { return text }
        return text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
    }

    /// How long a throttled job waits: the provider's Retry-After, else a second, plus up to a second of jitter so
    /// that a batch throttled together does not come back as one wave.
    static func throttleDelay(_ retryAfter: Duration?) -> Int64 {
        (retryAfter ?? .seconds(1)).milliseconds + Int64.random(in: 0...1000)
    }

    /// Records a batch of outcomes in one round trip and returns the ids it recorded: those still held under
    /// `owner`'s lease, and final outcomes of jobs the reaper took back that nobody has claimed since (see
    /// `finishSQL`). The others belong to another worker now.
    public func record(
        _ outcomes: [(job: ClaimedJob, outcome: JobOutcome)], owner: String, retry: RetryPolicy,
        on conn: PostgresConnection
    ) async throws -> RecordResult {
        var finished: (ids: [Int64], outcomes: [String], reasons: [String?], providerIDs: [String?], tokens: [Int64]) =
            ([], [], [], [], [])
        var failed: (ids: [Int64], errors: [String], permanent: [Bool], delays: [Int64], tokens: [Int64]) =
            ([], [], [], [], [])
        var throttled: (ids: [Int64], errors: [String], delays: [Int64], tokens: [Int64]) = ([], [], [], [])
        for (job, outcome) in outcomes {
            switch outcome {
            case .sent(let providerID):
                finished.ids.append(job.id); finished.tokens.append(job.leaseToken)
                finished.outcomes.append("sent")
                finished.reasons.append(nil); finished.providerIDs.append(providerID.map(Self.storable))
            case .suppressed(let reason):
                finished.ids.append(job.id); finished.tokens.append(job.leaseToken)
                finished.outcomes.append("suppressed")
                finished.reasons.append(Self.storable(reason)); finished.providerIDs.append(nil)
            case .cancelled(let reason):
                finished.ids.append(job.id); finished.tokens.append(job.leaseToken)
                finished.outcomes.append("cancelled")
                finished.reasons.append(Self.storable(reason)); finished.providerIDs.append(nil)
            case .failed(let failure):
                failed.ids.append(job.id); failed.tokens.append(job.leaseToken)
                failed.errors.append(Self.storable(failure.message))
                failed.permanent.append(failure.permanent)
                failed.delays.append(retry.delay(afterAttempt: job.attempt, retryAfter: failure.retryAfter).milliseconds)
            case .throttled(let message, let retryAfter):
                throttled.ids.append(job.id); throttled.tokens.append(job.leaseToken)
                throttled.errors.append(Self.storable("throttled: \(message)"))
                throttled.delays.append(Self.throttleDelay(retryAfter))
            }
        }
        var statements: [PostgresStatement] = []
        if !finished.ids.isEmpty {
            statements.append(.init(Self.finishSQL, [
                owner, finished.ids, finished.outcomes, finished.reasons, finished.providerIDs, finished.tokens,
            ]))
        }
        if !failed.ids.isEmpty {
            statements.append(.init(Self.failSQL, [
                owner, failed.ids, failed.errors, failed.permanent, failed.delays, failed.tokens,
            ]))
        }
        if !throttled.ids.isEmpty {
            statements.append(.init(Self.throttleSQL, [
                owner, throttled.ids, throttled.errors, throttled.delays, throttled.tokens,
            ]))
        }
        let results = try await conn.pipeline(statements, prepared: true)
        var result = RecordResult()
        var index = 0
        if !finished.ids.isEmpty {
            result.finished = try results[index].map { try $0.decode(Int64.self, at: 0) }
            index += 1
        }
        if !failed.ids.isEmpty {
            for row in results[index] {
                let state: String = try row.decode(at: 1)
                if state == "failed" { result.failed.append(try row.decode(at: 0)) } else { result.retried.append(try row.decode(at: 0)) }
            }
            index += 1
        }
        if !throttled.ids.isEmpty {
            result.throttled = try results[index].map { try $0.decode(Int64.self, at: 0) }
        }
        return result
    }

    /// What `record` did, by job id.
    public struct RecordResult: Sendable {
        public var finished: [Int64] = []
        public var retried: [Int64] = []
        public var failed: [Int64] = []
        public var throttled: [Int64] = []
        public var all: Set<Int64> { Set(finished + retried + failed + throttled) }
    }

    // MARK: Leases

    static let releaseSQL = """
        UPDATE send_jobs j
        SET state = 'due', lease_owner = NULL, lease_expires_at = NULL, attempts = greatest(j.attempts - 1, 0)
        FROM unnest($2::int8[], $3::int8[]) AS r(id, token)
        WHERE j.id = r.id AND j.state = 'running' AND j.lease_owner = $1 AND j.lease_token = r.token
        """
    static let notifySQL = "SELECT pg_notify($1, '')"

    /// Gives jobs back without counting the attempt (a worker shutting down), and wakes the other workers.
    @discardableResult
    public func release(_ leases: [ClaimedJob.Lease], owner: String, on conn: PostgresConnection) async throws -> Int {
        if leases.isEmpty { return 0 }
        let results = try await conn.pipeline([
            .init(Self.releaseSQL, [owner, leases.map(\.id), leases.map(\.token)]),
            .init(Self.notifySQL, [Self.notifyChannel]),
        ])
        return results[0].affectedRows
    }

    /// Extends the leases of jobs in flight; touches no indexed column, so it is a HOT update (see 0005).
    static let heartbeatSQL = """
        UPDATE send_jobs j SET lease_expires_at = now() + $3::int8 * interval '1 millisecond'
        FROM unnest($2::int8[], $4::int8[]) AS r(id, token)
        WHERE j.id = r.id AND j.state = 'running' AND j.lease_owner = $1 AND j.lease_token = r.token
        RETURNING j.id
        """

    /// Extends leases and returns the ids still held.
    public func heartbeat(_ leases: [ClaimedJob.Lease], owner: String, lease: Duration, on conn: PostgresConnection)
        async throws -> Set<Int64>
    {
        if leases.isEmpty { return [] }
        let rows = try await conn.query(
            Self.heartbeatSQL, [owner, leases.map(\.id), lease.milliseconds, leases.map(\.token)], prepared: true)
        return Set(try rows.map { try $0.decode(Int64.self, at: 0) })
    }

    /// Returns jobs whose lease expired (their worker died or hung) to due, or fails them when that was their
    /// last attempt; the attempt was counted at claim time. Served by send_jobs_running.
    static let reapSQL = """
        WITH expired AS (
            SELECT id FROM send_jobs WHERE state = 'running' AND lease_expires_at < now()
            FOR UPDATE SKIP LOCKED
        )
        UPDATE send_jobs j
        SET state = CASE WHEN j.attempts >= j.max_attempts THEN 'failed' ELSE 'due' END,
            failed_at = CASE WHEN j.attempts >= j.max_attempts THEN now() END,
            run_at = now(), lease_owner = NULL, lease_expires_at = NULL,
            last_error = 'lease expired: worker ' || j.lease_owner || ' stopped renewing it',
            errors = j.errors || jsonb_build_array(jsonb_build_object(
                'attempt', j.attempts, 'at', now(), 'error', 'lease expired: worker ' || j.lease_owner
                || ' stopped renewing it', 'permanent', false, 'worker', j.lease_owner))
        FROM expired
        WHERE j.id = expired.id
        RETURNING j.id, j.state
        """

    /// Reaps expired leases; returns (requeued, failed) counts and wakes workers when jobs came back.
    public func reap(on conn: PostgresConnection) async throws -> (requeued: Int, failed: Int) {
        let rows = try await conn.query(Self.reapSQL, prepared: true)
        let failed = try rows.filter { try $0.decode(String.self, at: 1) == "failed" }.count
        let requeued = rows.count - failed
        if requeued > 0 { try await conn.query(Self.notifySQL, [Self.notifyChannel]) }
        return (requeued, failed)
    }

    /// Seconds until the next due job becomes runnable, if any is scheduled; lets an idle worker sleep exactly
    /// until then instead of polling.
    static let nextDueSQL = """
        SELECT extract(epoch FROM min(run_at) - now())::float8 FROM send_jobs
        WHERE state = 'due' AND ($1::text[] IS NULL OR channel = ANY($1::text[]))
          AND ($2::int8 IS NULL OR campaign_id = $2::int8)
        """

    public func secondsUntilNextDue(channels: [String]?, campaignID: Int64?, on conn: PostgresConnection)
        async throws -> Double?
    {
        try await conn.query(Self.nextDueSQL, [channels, campaignID], prepared: true).scalar(Double?.self)
    }
}

extension Duration {
    /// Whole milliseconds, for statement parameters.
    public var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
