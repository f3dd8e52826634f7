import Postgres

/// A snapshot of the queue for operators: `ciclo queue depth`. Reads only the hot queue table and the last
/// minute of deliveries (through deliveries_finished), so it stays fast however long the history grows.
public struct QueueDepth: Sendable, Codable, Equatable {
    /// One cell of the state × channel (or × campaign) table.
    public struct Count: Sendable, Codable, Equatable {
        public var state: String
        /// The channel, or the campaign key (`-` for jobs with no campaign) when grouped by campaign.
        public var group: String
        public var count: Int
    }

    public var generatedAt: String
    /// `channel` or `campaign`.
    public var groupedBy: String
    public var counts: [Count]
    public var totals: [String: Int]
    /// Due jobs whose run_at has come.
    public var dueNow: Int
    /// Due jobs scheduled for later (delayed sends, retries in backoff).
    public var scheduledLater: Int
    /// Seconds since the oldest job that is due now became due; nil when none is.
    public var oldestDueAgeSeconds: Double?
    /// Jobs that reached deliveries (sent, suppressed, cancelled, discarded) in the last minute.
    public var completedLastMinute: Int
    /// Jobs that ended failed in the last minute.
    public var failedLastMinute: Int

    enum CodingKeys: String, CodingKey {
        case generatedAt = "generated_at", groupedBy = "grouped_by", counts, totals, dueNow = "due_now"
        case scheduledLater = "scheduled_later", oldestDueAgeSeconds = "oldest_due_age_seconds"
        case completedLastMinute = "completed_last_minute", failedLastMinute = "failed_last_minute"
    }

    public enum Grouping: String, Sendable, CaseIterable {
        case channel, campaign
    }

    static let countsByChannelSQL = """
        SELECT state, channel, count(*)::int8 FROM send_jobs GROUP BY state, channel ORDER BY state, channel
        """
    static let countsByCampaignSQL = """
        SELECT j.state, coalesce(c.key, '-'), count(*)::int8
        FROM send_jobs j LEFT JOIN campaigns c ON c.id = j.campaign_id
        GROUP BY 1, 2 ORDER BY 1, 2
        """
    public static let summarySQL = """
        SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               count(*) FILTER (WHERE state = 'due' AND run_at <= now())::int8,
               count(*) FILTER (WHERE state = 'due' AND run_at > now())::int8,
               extract(epoch FROM now() - min(run_at) FILTER (WHERE state = 'due' AND run_at <= now()))::float8,
               count(*) FILTER (WHERE state = 'failed' AND failed_at > now() - interval '1 minute')::int8,
               (SELECT count(*) FROM deliveries WHERE finished_at > now() - interval '1 minute')::int8
        FROM send_jobs
        """

    /// Takes the snapshot in one round trip.
    public static func read(grouping: Grouping, on conn: PostgresConnection) async throws -> QueueDepth {
        let results = try await conn.pipeline([
            .init(grouping == .channel ? countsByChannelSQL : countsByCampaignSQL), .init(summarySQL),
        ])
        let counts = try results[0].map { row in
            Count(state: try row.decode(at: 0), group: try row.decode(at: 1), count: try row.decode(at: 2))
        }
        var totals = ["due": 0, "running": 0, "failed": 0]
        for count in counts { totals[count.state, default: 0] += count.count }
        let summary = try results[1].single()
        return QueueDepth(
            generatedAt: try summary.decode(at: 0), groupedBy: grouping.rawValue, counts: counts, totals: totals,
            dueNow: try summary.decode(at: 1), scheduledLater: try summary.decode(at: 2),
            oldestDueAgeSeconds: try summary.decode(at: 3), completedLastMinute: try summary.decode(at: 5),
            failedLastMinute: try summary.decode(at: 4))
    }
}
