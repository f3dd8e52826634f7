import CLibPQ
import Foundation
import Logging
import Synchronization

/// One connection to PostgreSQL.
///
/// Its work runs on a thread of its own (see `ThreadExecutor`), so blocking libpq calls never hold up Swift's
/// cooperative pool. A connection has one owner at a time: inside `withTransaction` any other task that uses it gets
/// a `.misuse` error instead of slipping statements into someone else's transaction. A broken connection surfaces
/// as `.connectionLost` and the next use reconnects.
public actor PostgresConnection {
    public nonisolated let configuration: PostgresConfiguration
    let logger: Logger
    private nonisolated let executor: ThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private var handle: UnsafeHandle?
    private var closed = false
    let canceller = Canceller()
    private let noticeSink: NoticeSink
    /// Prepared statement names by SQL text; emptied on reconnect, since prepared statements die with the session.
    private var preparedNames: [String: String] = [:]
    var transactionOwner: UInt64?
    var transactionDepth = 0

    /// Creates a connection that connects on first use.
    public init(configuration: PostgresConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.noticeSink = NoticeSink(logger: logger)
        self.executor = ThreadExecutor(name: "pg-\(configuration.applicationName)")
    }

    /// Opens a connection now, so that a wrong URL or a server that is down is reported at start-up.
    public static func connect(configuration: PostgresConfiguration, logger: Logger) async throws -> PostgresConnection {
        let connection = PostgresConnection(configuration: configuration, logger: logger)
        try await connection.open()
        return connection
    }

    deinit {
        if let handle { PQfinish(handle.pointer) }
        canceller.setHandle(nil)
        executor.shutdown()
    }

    /// Connects if there is no healthy connection. Safe to call at any time.
    public func open() throws {
        _ = try liveHandle()
    }

    /// Closes the connection; any later use is an error.
    public func close() {
        closed = true
        dropHandle()
    }

    /// The server process id of the current session (for `pg_terminate_backend` and `pg_stat_activity`).
    public func backendPID() throws -> Int32 {
        PQbackendPID(try liveHandle())
    }

    /// The libpq version this process linked, e.g. `15.18`.
    public static var libpqVersion: String {
        let version = Int(PQlibVersion())
        return version >= 100_000 ? "\(version / 10_000).\(version % 10_000)" : "\(version / 10_000).\(version / 100 % 100)"
    }

    // MARK: - Statements

    /// Runs one statement with parameters and returns its rows. `prepared` keeps a server-side prepared statement for
    /// the SQL text on this connection, which saves parsing and planning on hot paths.
    @discardableResult
    public func query(
        _ sql: String, _ binds: [any PostgresEncodable] = [], prepared: Bool = false,
        file: String = #fileID, line: Int = #line
    ) async throws -> PostgresRows {
        let params = try EncodedParameters(binds)
        return try await withLiveHandle(file: file, line: line) { conn in
            try self.execute(conn, sql, params, prepared: prepared, file: file, line: line)
        }
    }

    /// Runs a script of several statements with no parameters, through the simple query protocol.
    /// For migration files and fixed set-up only: values never go into a script.
    public func executeScript(_ sql: String, file: String = #fileID, line: Int = #line) async throws {
        try await withLiveHandle(file: file, line: line) { conn in
            let result = PQexec(conn, sql)
            _ = try self.consume(conn, result, sql: sql, file: file, line: line)
        }
    }

    func execute(
        _ conn: OpaquePointer, _ sql: String, _ params: EncodedParameters, prepared: Bool, file: String, line: Int
    ) throws -> PostgresRows {
        if prepared {
            let name = try preparedName(conn, sql, params, file: file, line: line)
            let result = params.withPointers { count, _, values in
                PQexecPrepared(conn, name, count, values, nil, nil, 1)
            }
            return try consume(conn, result, sql: sql, file: file, line: line)
        }
        let result = params.withPointers { count, types, values in
            PQexecParams(conn, sql, count, types, values, nil, nil, 1)
        }
        return try consume(conn, result, sql: sql, file: file, line: line)
    }

    /// The name of this connection's prepared statement for `sql`, preparing it on first use.
    func preparedName(
        _ conn: OpaquePointer, _ sql: String, _ params: EncodedParameters, file: String, line: Int
    ) throws -> String {
        if let name = preparedNames[sql] { return name }
        let name = "ciclo_\(preparedNames.count + 1)"
        let result = params.withPointers { count, types, _ in PQprepare(conn, name, sql, count, types) }
        _ = try consume(conn, result, sql: sql, file: file, line: line)
        preparedNames[sql] = name
        return name
    }

    // MARK: - Connection lifecycle

    /// Runs `body` with a healthy libpq handle, with this task's cancellation wired to `PQcancel`.
    func withLiveHandle<T>(
        allowDuringOtherTransaction: Bool = false, file: String, line: Int,
        _ body: (OpaquePointer) throws -> T
    ) async throws -> T {
        if !allowDuringOtherTransaction { try checkOwner(file: file, line: line) }
        if Task.isCancelled {
            throw PostgresError(
                code: .queryCanceled, message: "The task was cancelled before the statement was sent", file: file,
                line: line)
        }
        let conn = try liveHandle()
        return try await withTaskCancellationHandler {
            canceller.begin()
            defer { canceller.end() }
            return try body(conn)
        } onCancel: {
            canceller.cancel()
        }
    }

    func checkOwner(file: String, line: Int) throws {
        if let owner = transactionOwner, !TransactionScope.held.contains(owner) {
            throw PostgresError(
                code: .misuse,
                message: "This connection is inside a transaction that another task owns; give each task its own connection",
                file: file, line: line)
        }
    }

    /// The libpq handle, reconnecting first if the last one broke.
    func liveHandle() throws -> OpaquePointer {
        if closed { throw PostgresError(code: .misuse, message: "This connection was closed") }
        if let handle, PQstatus(handle.pointer) == CONNECTION_OK { return handle.pointer }
        if handle != nil, transactionOwner != nil {
            // The server rolled the transaction back with the session. Reconnecting here would run the rest of the
            // transaction's statements on a new session, outside any transaction: refuse until the scope ends.
            throw PostgresError(
                code: .connectionLost,
                message: "the connection was lost inside a transaction, which the server rolled back")
        }
        if handle != nil {
            logger.info("reconnecting to PostgreSQL", metadata: ["target": "\(configuration.redactedTarget())"])
            dropHandle()
        }
        let conn = try Self.connectHandle(configuration)
        noticeSink.attach(to: conn)
        canceller.setHandle(PQgetCancel(conn))
        handle = UnsafeHandle(pointer: conn)
        logger.debug("connected to PostgreSQL", metadata: ["backend_pid": "\(PQbackendPID(conn))"])
        return conn
    }

    /// The current handle if it is connected, without reconnecting.
    func healthyHandle() -> OpaquePointer? {
        guard let handle, PQstatus(handle.pointer) == CONNECTION_OK else { return nil }
        return handle.pointer
    }

    private func dropHandle() {
        canceller.setHandle(nil)
        if let handle { PQfinish(handle.pointer) }
        handle = nil
        preparedNames = [:]
        // A transaction does not outlive its session: the server has already rolled it back.
        transactionOwner = nil
        transactionDepth = 0
    }

    /// Opens a libpq connection. Blocking; callers run it on a connection thread.
    static func connectHandle(_ configuration: PostgresConfiguration) throws -> OpaquePointer {
        try configuration.validate()
        let pairs = configuration.parameters()
        let keywords = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        var keywordPointers = keywords.map { UnsafePointer($0) } + [nil]
        var valuePointers = values.map { UnsafePointer($0) } + [nil]
        guard let conn = PQconnectdbParams(&keywordPointers, &valuePointers, 1) else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = configuration.redactingPassword(in: String(cString: PQerrorMessage(conn)).trimmingNewlines)
            PQfinish(conn)
            throw PostgresError(code: .connectionFailed, message: message)
        }
        return conn
    }
}

/// Which transactions the current task holds, so a connection can tell its owner from anyone else.
enum TransactionScope {
    @TaskLocal static var held: Set<UInt64> = []
    private static let counter = Atomic<UInt64>(0)
    static func newToken() -> UInt64 { counter.wrappingAdd(1, ordering: .relaxed).newValue }
}

/// Routes server notices (NOTICE, WARNING) to the logger instead of libpq's default, which writes to stderr.
final class NoticeSink: Sendable {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }

    /// Routes the connection's notices here; the sink must outlive the connection.
    func attach(to conn: OpaquePointer) {
        PQsetNoticeProcessor(conn, noticeProcessor, Unmanaged.passUnretained(self).toOpaque())
    }
}

private func noticeProcessor(_ context: UnsafeMutableRawPointer?, _ message: UnsafePointer<CChar>?) {
    guard let context, let message else { return }
    let sink = Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue()
    sink.logger.debug("postgres notice", metadata: ["message": "\(String(cString: message).trimmingNewlines)"])
}
