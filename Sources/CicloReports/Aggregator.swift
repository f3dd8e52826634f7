import Logging
import Postgres

/// Folds raw outcomes into report_rollups, incrementally and exactly once.
///
/// Why it never counts twice or skips: every raw row carries `fold_xid`, the id of the transaction that wrote it
/// (0013_rollups.sql). A fold takes rows in (fold_xid, id) order after its source's cursor and strictly before the
/// horizon, `pg_snapshot_xmin(pg_current_snapshot())`: every transaction below it has ended, so those rows are all
/// committed and visible, and any row written later gets a larger fold_xid. Ids alone would not do: they are drawn
/// before commit, so a late commit would land behind a cursor that had already passed its id. The chunk, its rollup
/// upserts and the cursor's move are one transaction, taken under `FOR UPDATE` on every cursor row: a second
/// aggregator waits, then reads the cursor the first one left; a process killed mid-chunk leaves nothing behind.
public struct Aggregator: Sendable {
    /// The raw sources, in the order a pass folds them.
    public enum Source: String, Sendable, CaseIterable {
        case decisions, deliveries, responses, events
    }

    /// Rows per chunk transaction: big enough to amortise the round trips, small enough that a kill loses little.
    public var chunk: Int
    let logger: Logger

    public init(chunk: Int = 50_000, logger: Logger) {
        precondition(chunk > 0, "chunk must be positive")
        self.chunk = chunk
        self.logger = logger
    }

    /// What one pass folded, by source.
    public struct Pass: Sendable, Equatable {
        public var folded: [Source: Int] = [:]
        public var resolvedPending = 0
        public var chunks = 0
        public var total: Int { folded.values.reduce(0, +) + resolvedPending }
    }

    /// Folds everything below the horizon, chunk by chunk, and returns when a chunk comes back short for every
    /// source (the fold has caught up with what had committed when it looked).
    public func pass(on conn: PostgresConnection) async throws -> Pass {
        var pass = Pass()
        pass.resolvedPending = try await inTurn(on: conn) { conn, _, _ in
            try await conn.query(FoldStatements.pendingResponses).first?.decode(Int.self, at: 0) ?? 0
        }
        for source in Source.allCases {
            while !Task.isCancelled {
                let folded = try await foldChunk(source, on: conn)
                pass.chunks += 1
                pass.folded[source, default: 0] += folded
                if folded < chunk || source == .decisions { break }
            }
        }
        return pass
    }

    /// Transaction ids below this were all handed out before now.
    static let nextXidSQL = "SELECT pg_snapshot_xmax(pg_current_snapshot())::text"
    /// Whether every transaction with an id below $1 has ended.
    static let passedSQL = "SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::xid8"
    /// The oldest transaction still running in the cluster (transaction ids, and so the horizon, are shared by
    /// every database of the server).
    static let oldestSQL = """
        SELECT pid, coalesce(datname, '?'), coalesce(extract(epoch FROM now() - xact_start)::int8, 0),
               coalesce(state, '?'), coalesce(application_name, '')
        FROM pg_stat_activity WHERE backend_xid IS NOT NULL OR backend_xmin IS NOT NULL
        ORDER BY age(coalesce(backend_xid, backend_xmin)) DESC LIMIT 1
        """

    /// A transaction that started before the fold was asked for is still open, so the fold cannot yet see
    /// whether it wrote outcomes.
    public struct Blocked: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Folds everything committed before it was called: passes until every transaction that was open then has
    /// ended, then one more. Throws `Blocked` after `timeout` if one is still open (an idle session in a
    /// transaction, anywhere on the server), naming it.
    public func catchUp(timeout: Duration, on conn: PostgresConnection) async throws -> Pass {
        let target = try await conn.query(Self.nextXidSQL).scalar(String.self)
        let deadline = ContinuousClock.now + timeout
        var total = Pass()
        while true {
            let passed = try await conn.query(Self.passedSQL, [target]).scalar(Bool.self)
            let pass = try await self.pass(on: conn)
            total.chunks += pass.chunks
            total.resolvedPending += pass.resolvedPending
            for (source, count) in pass.folded { total.folded[source, default: 0] += count }
            if passed { return total }
            if ContinuousClock.now >= deadline {
                let row = try await conn.query(Self.oldestSQL).first
                let who =
                    try row.map { row in
                        "process \(try row.decode(Int.self, at: 0)) (\(try row.decode(String.self, at: 4))) on database "
                            + "\(try row.decode(String.self, at: 1)), \(try row.decode(String.self, at: 3)) for "
                            + "\(try row.decode(Int.self, at: 2)) s"
                    } ?? "a transaction that has since ended"
                throw Blocked(
                    description: "a transaction older than this fold is still open (\(who)); what it "
                        + "writes cannot be folded until it ends: commit or end it, or run again later")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Folds one chunk of a source and returns the raw rows it consumed.
    @discardableResult
    public func foldChunk(_ source: Source, on conn: PostgresConnection) async throws -> Int {
        try await inTurn(on: conn) { conn, cursors, horizon in
            guard let cursor = cursors[source] else {
                throw PostgresError(code: .misuse, message: "report_cursors has no row for \(source.rawValue)")
            }
            let rows = try await conn.query(
                Self.statement(source), [cursor.xid, cursor.id, horizon, chunk], prepared: true)
            return try rows.first?.decode(Int.self, at: 0) ?? 0
        }
    }

    static func statement(_ source: Source) -> String {
        switch source {
        case .decisions: return FoldStatements.decisions
        case .deliveries: return FoldStatements.deliveries
        case .responses: return FoldStatements.responses
        case .events: return FoldStatements.events
        }
    }

    /// Runs `body` in a transaction that holds every cursor's row lock, with the cursors and the horizon read
    /// after the lock was granted (so they are the ones any previous holder left).
    private func inTurn<T: Sendable>(
        on conn: PostgresConnection,
        _ body: @Sendable (PostgresConnection, [Source: (xid: String, id: Int64)], String) async throws -> T
    ) async throws -> T {
        try await conn.withTransaction { conn in
            try await conn.query(FoldStatements.chunkSettings, prepared: true)
            var cursors: [Source: (xid: String, id: Int64)] = [:]
            for row in try await conn.query(FoldStatements.lockCursors, prepared: true) {
                if let source = Source(rawValue: try row.decode(String.self, at: 0)) {
                    cursors[source] = (try row.decode(String.self, at: 1), try row.decode(Int64.self, at: 2))
                }
            }
            let horizon = try await conn.query(FoldStatements.horizon, prepared: true).scalar(String.self)
            return try await body(conn, cursors, horizon)
        }
    }
}
