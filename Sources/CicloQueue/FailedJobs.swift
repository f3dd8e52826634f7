import Postgres

/// Which failed jobs an operator means: one job, or every failed job matching all the filters given.
public struct FailedJobFilter: Sendable {
    public var jobID: Int64?
    /// A campaign key or numeric id.
    public var campaign: String?
    public var channel: String?
    /// A LIKE pattern on the last error; without a `%` or `_` it matches anywhere in the error.
    public var errorLike: String?
    /// Only jobs that ended failed at or after this instant.
    public var since: PostgresTimestamp?

    public init(
        jobID: Int64? = nil, campaign: String? = nil, channel: String? = nil, errorLike: String? = nil,
        since: PostgresTimestamp? = nil
    ) {
        self.jobID = jobID
        self.campaign = campaign
        self.channel = channel
        self.errorLike = errorLike
        self.since = since
    }

    var binds: [any PostgresEncodable] {
        let pattern = errorLike.map { $0.contains("%") || $0.contains("_") ? $0 : "%\($0)%" }
        return [jobID, campaign, channel, pattern, since]
    }

    /// The shared WHERE clause: only failed jobs, so a running or due job is never touched.
    static let predicate = """
        j.state = 'failed'
          AND ($1::int8 IS NULL OR j.id = $1::int8)
          AND ($2::text IS NULL OR j.campaign_id = (SELECT c.id FROM campaigns c
                                                    WHERE c.key = $2::text OR c.id::text = $2::text
                                                    -- A key made of digits names its own campaign, not the one
                                                    -- with that id.
                                                    ORDER BY c.key = $2::text DESC LIMIT 1))
          AND ($3::text IS NULL OR j.channel = $3::text)
          AND ($4::text IS NULL OR j.last_error LIKE $4::text)
          AND ($5::timestamptz IS NULL OR j.failed_at >= $5::timestamptz)
        """
}

/// A failed job as an operator sees it.
public struct FailedJob: Sendable, Equatable {
    public var id: Int64
    public var campaignID: Int64?
    public var channel: String
    public var idempotencyKey: String
    public var attempts: Int
    public var lastError: String?
    public var failedAt: PostgresTimestamp?
}

/// Operator actions on failed jobs: list, retry (back to due with attempts reset) and discard (to deliveries).
public struct FailedJobs: Sendable {
    public init() {}

    static let listSQL = """
        SELECT j.id, j.campaign_id, j.channel, j.idempotency_key, j.attempts, j.last_error, j.failed_at
        FROM send_jobs j WHERE \(FailedJobFilter.predicate)
        ORDER BY j.id
        """

    /// Back to due now with attempts reset; the error history is kept. Wakes the workers.
    static let retrySQL = """
        WITH moved AS (
            UPDATE send_jobs j
            SET state = 'due', run_at = now(), attempts = 0, failed_at = NULL, lease_owner = NULL,
                lease_expires_at = NULL
            WHERE \(FailedJobFilter.predicate)
            RETURNING j.id
        )
        SELECT count(*)::int8, pg_notify($6::text, '') FROM moved
        """

    /// Discarded jobs leave the queue for deliveries, with their errors, as outcome 'discarded'.
    static let discardSQL = """
        WITH gone AS (
            DELETE FROM send_jobs j WHERE \(FailedJobFilter.predicate)
            RETURNING j.id, j.idempotency_key, j.campaign_id, j.customer_id, j.channel, j.attempts, j.errors,
                      j.last_error, j.payload->>'variant' AS variant
        )
        INSERT INTO deliveries (job_id, idempotency_key, campaign_id, customer_id, channel, outcome, reason,
                                attempts, errors, variant, stage)
        SELECT g.id, g.idempotency_key, g.campaign_id, g.customer_id, g.channel, 'discarded', g.last_error,
               g.attempts, g.errors, g.variant, c.stage
        FROM gone g LEFT JOIN customers c ON c.id = g.customer_id
        """

    public func list(_ filter: FailedJobFilter, on conn: PostgresConnection) async throws -> [FailedJob] {
        try await conn.query(Self.listSQL, filter.binds).map { row in
            FailedJob(
                id: try row.decode(at: 0), campaignID: try row.decode(at: 1), channel: try row.decode(at: 2),
                idempotencyKey: try row.decode(at: 3), attempts: try row.decode(at: 4),
                lastError: try row.decode(at: 5), failedAt: try row.decode(at: 6))
        }
    }

    /// Moves the matching failed jobs back to due and returns how many moved.
    public func retry(_ filter: FailedJobFilter, on conn: PostgresConnection) async throws -> Int {
        try await conn.query(Self.retrySQL, filter.binds + [SendQueue.notifyChannel]).single().decode(Int.self, at: 0)
    }

    /// Discards the matching failed jobs and returns how many.
    public func discard(_ filter: FailedJobFilter, on conn: PostgresConnection) async throws -> Int {
        try await conn.query(Self.discardSQL, filter.binds).affectedRows
    }
}
