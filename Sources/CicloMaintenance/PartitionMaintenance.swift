import Postgres

/// `ciclo maintenance`: keeps the monthly partitions of the raw tables ahead of time and drops the months older
/// than the retention. Runs under a session advisory lock, so concurrent runs queue up instead of racing, and every
/// step checks what exists first, so a second run right after the first finds nothing to do.
///
/// Creating a month moves the rows the DEFAULT partition holds for it into the new partition, in the same
/// transaction (PostgreSQL refuses to create a partition while the DEFAULT one holds rows in its range). Dropping
/// a month is a DROP TABLE of the partition: no rows are deleted one by one. The DEFAULT partition is never dropped;
/// its rows older than the cutoff are deleted instead.
public struct PartitionMaintenance: Sendable {
    public var options: MaintenanceOptions
    public var tables: [PartitionedTable]

    public init(options: MaintenanceOptions, tables: [PartitionedTable] = PartitionedTable.raw) {
        self.options = options
        self.tables = tables
    }

    /// "ciclo maint" folded into 63 bits; every ciclo maintenance process agrees on it.
    static let lockKey: Int64 = 0x6369_636c_6f6d_6e74
    static let lockSQL = "SELECT pg_advisory_lock($1)"
    static let unlockSQL = "SELECT pg_advisory_unlock($1)"
    /// A step waits at most this long for a table lock, so that a long transaction elsewhere makes maintenance
    /// fail with a message instead of queueing every writer behind its own pending lock.
    static let lockTimeoutSQL = "SELECT set_config('lock_timeout', '10s', true)"
    static let cutoffSQL = "SELECT (now() - make_interval(days => $1::int4))::text"

    /// Runs the maintenance and reports what it did (or, in a dry run, what it would do).
    public func run(on conn: PostgresConnection) async throws -> MaintenanceReport {
        try options.validate()
        try await conn.query(Self.lockSQL, [Self.lockKey])
        do {
            let report = try await runLocked(on: conn)
            try await conn.query(Self.unlockSQL, [Self.lockKey])
            return report
        } catch {
            _ = try? await conn.query(Self.unlockSQL, [Self.lockKey])
            throw error
        }
    }

    private func runLocked(on conn: PostgresConnection) async throws -> MaintenanceReport {
        if options.storeRetention, let days = options.retentionDays {
            try await RetentionSetting.store(days: days, on: conn)
        }
        let retention: MaintenanceReport.Retention
        if let days = options.retentionDays {
            retention = .flag(days: days)
        } else if let days = try await RetentionSetting.load(on: conn) {
            retention = .setting(days: days)
        } else {
            retention = .none
        }
        let (tables, monthsAhead) = (self.tables, options.monthsAhead)
        let (cutoff, actions) = try await conn.withTransaction { conn in
            try await conn.query(MaintenancePlan.sessionSQL)
            var cutoff: String?
            if let days = retention.days { cutoff = try await conn.query(Self.cutoffSQL, [days]).scalar(String.self) }
            let actions = try await MaintenancePlan.actions(
                for: tables, monthsAhead: monthsAhead, cutoff: cutoff, on: conn)
            return (cutoff, actions)
        }
        var report = MaintenanceReport(dryRun: options.dryRun, retention: retention, cutoff: cutoff)
        for action in actions where action.kind == .create {
            let moved = options.dryRun ? try await countDefault(action, on: conn) : try await create(action, on: conn)
            report.steps.append(.created(table: action.table, partition: action.partition, from: action.from,
                                         to: action.to, movedFromDefault: moved))
        }
        for action in actions where action.kind == .drop {
            if !options.dryRun { try await drop(action, on: conn) }
            report.steps.append(.dropped(table: action.table, partition: action.partition, from: action.from,
                                         to: action.to))
        }
        if let cutoff {
            for (table, quotedDefault, quotedKey) in try await defaults(on: conn) {
                let rows = try await purgeDefault(quotedDefault, key: quotedKey, before: cutoff, on: conn)
                if rows > 0 { report.steps.append(.purgedDefault(table: table, rows: rows)) }
            }
            // Once raw rows are gone, the rollups (which survive them) can only be recounted from the cutoff on.
            if !options.dryRun, report.steps.contains(where: \.removesRawData) {
                try await RetentionSetting.markRetainedFrom(cutoff: cutoff, on: conn)
            }
        }
        return report
    }

    // MARK: Steps

    /// Moves the DEFAULT partition's rows of the month aside, creates the month, and puts the rows back through the
    /// parent (so they land in the new partition with their ids), all in one transaction. The parent is locked
    /// first: creating a partition locks it anyway, and taking it up front keeps an insert from slipping a row for
    /// the month into DEFAULT between the move and the create.
    private func create(_ action: PartitionAction, on conn: PostgresConnection) async throws -> Int {
        try await step(action.table, on: conn) { conn in
            try await conn.query("LOCK TABLE \(action.quotedTable) IN ACCESS EXCLUSIVE MODE")
            var moved = 0
            if let quotedDefault = action.quotedDefault {
                try await conn.query("CREATE TEMP TABLE ciclo_moving (LIKE \(action.quotedTable)) ON COMMIT DROP")
                moved = try await conn.query("""
                    WITH moved AS (
                        DELETE FROM \(quotedDefault)
                        WHERE \(action.quotedKey) >= $1::timestamptz AND \(action.quotedKey) < $2::timestamptz
                        RETURNING *
                    )
                    INSERT INTO ciclo_moving SELECT * FROM moved
                    """, [action.lower, action.upper]).affectedRows
            }
            try await conn.query("""
                CREATE TABLE \(action.quotedPartition) PARTITION OF \(action.quotedTable)
                    FOR VALUES FROM (\(action.lowerLiteral)) TO (\(action.upperLiteral))
                """)
            if moved > 0 {
                try await conn.query(
                    "INSERT INTO \(action.quotedTable) OVERRIDING SYSTEM VALUE SELECT * FROM ciclo_moving")
            }
            return moved
        }
    }

    private func countDefault(_ action: PartitionAction, on conn: PostgresConnection) async throws -> Int {
        guard let quotedDefault = action.quotedDefault else { return 0 }
        return try await conn.query("""
            SELECT count(*) FROM \(quotedDefault)
            WHERE \(action.quotedKey) >= $1::timestamptz AND \(action.quotedKey) < $2::timestamptz
            """, [action.lower, action.upper]).scalar(Int.self)
    }

    private func drop(_ action: PartitionAction, on conn: PostgresConnection) async throws {
        _ = try await step(action.table, on: conn) { conn in
            try await conn.query("DROP TABLE \(action.quotedPartition)").affectedRows
        }
    }

    /// The DEFAULT partition of each table, with its partition key, quoted.
    static let defaultsSQL = """
        SELECT t.name, p.partdefid::regclass::text, quote_ident(t.key)
        FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(name, key, ord)
        JOIN pg_partitioned_table p ON p.partrelid = to_regclass(quote_ident(t.name))
        WHERE p.partdefid <> 0
        ORDER BY t.ord
        """

    private func defaults(on conn: PostgresConnection) async throws -> [(String, String, String)] {
        try await conn.query(Self.defaultsSQL, [tables.map(\.name), tables.map(\.key)]).map {
            (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1), try $0.decode(String.self, at: 2))
        }
    }

    /// Rows the DEFAULT partition holds from before the cutoff (old imported history) go the way their month would.
    private func purgeDefault(_ quotedDefault: String, key: String, before cutoff: String, on conn: PostgresConnection)
        async throws -> Int
    {
        if options.dryRun {
            return try await conn.query(
                "SELECT count(*) FROM \(quotedDefault) WHERE \(key) < $1::timestamptz", [cutoff]).scalar(Int.self)
        }
        return try await step(quotedDefault, on: conn) { conn in
            try await conn.query("DELETE FROM \(quotedDefault) WHERE \(key) < $1::timestamptz", [cutoff]).affectedRows
        }
    }

    /// One transaction with a lock timeout; a lock not granted in time becomes a MaintenanceError naming the table.
    private func step(
        _ table: String, on conn: PostgresConnection, _ body: @Sendable (PostgresConnection) async throws -> Int
    ) async throws -> Int {
        do {
            return try await conn.withTransaction { conn in
                try await conn.query(Self.lockTimeoutSQL)
                return try await body(conn)
            }
        } catch let error as PostgresError where error.sqlState == "55P03" {
            throw MaintenanceError(.lockTimeout, "\(table) stayed locked by another session for 10 seconds (a long transaction?); nothing was changed in this step, run `ciclo maintenance` again later")
        }
    }
}
