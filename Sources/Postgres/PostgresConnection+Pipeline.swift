import CLibPQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#else
    import Darwin
#endif

/// A statement and its parameters, for running many in one round trip.
public struct PostgresStatement: Sendable {
    public var sql: String
    public var binds: [any PostgresEncodable]
    public init(_ sql: String, _ binds: [any PostgresEncodable] = []) {
        self.sql = sql
        self.binds = binds
    }
}

extension PostgresConnection {
    /// Runs many statements in one round trip with libpq's pipeline mode and returns each one's rows, in order.
    ///
    /// The statements share one sync point, so outside an explicit transaction they commit together or not at all:
    /// the first failure is thrown and the statements after it are skipped by the server.
    /// `prepared` prepares each distinct SQL text once per connection, as `query(_:_:prepared:)` does.
    public func pipeline(
        _ statements: [PostgresStatement], prepared: Bool = false, file: String = #fileID, line: Int = #line
    ) async throws -> [PostgresRows] {
        if statements.isEmpty { return [] }
        let encoded = try statements.map { try EncodedParameters($0.binds) }
        return try await withLiveHandle(file: file, line: line) { conn in
            var names: [String?] = Array(repeating: nil, count: statements.count)
            if prepared {
                for (i, statement) in statements.enumerated() {
                    do {
                        names[i] = try preparedName(conn, statement.sql, encoded[i], file: file, line: line)
                    } catch var error as PostgresError {
                        error.message = "Statement \(i + 1) of \(statements.count) in the pipeline failed: \(error.message)"
                        throw error
                    }
                }
            }
            guard PQenterPipelineMode(conn) == 1 else {
                throw Self.connectionError(conn, sql: nil, file: file, line: line)
            }
            // Non-blocking, so that sending a long pipeline never waits on a server that is itself waiting for us
            // to read its results: the loop below always does whichever side can progress.
            PQsetnonblocking(conn, 1)
            defer {
                PQexitPipelineMode(conn)
                PQsetnonblocking(conn, 0)
            }
            for (i, statement) in statements.enumerated() {
                let sent = encoded[i].withPointers { count, types, values in
                    if let name = names[i] {
                        return PQsendQueryPrepared(conn, name, count, values, nil, nil, 1)
                    }
                    return PQsendQueryParams(conn, statement.sql, count, types, values, nil, nil, 1)
                }
                guard sent == 1 else { throw Self.connectionError(conn, sql: statement.sql, file: file, line: line) }
            }
            guard PQpipelineSync(conn) == 1 else { throw Self.connectionError(conn, sql: nil, file: file, line: line) }
            return try collectPipelineResults(conn, statements, file: file, line: line)
        }
    }

    private func collectPipelineResults(
        _ conn: OpaquePointer, _ statements: [PostgresStatement], file: String, line: Int
    ) throws -> [PostgresRows] {
        var results: [PostgresRows] = []
        results.reserveCapacity(statements.count)
        var firstError: PostgresError? = nil
        var index = 0
        var current: PostgresRows? = nil
        while true {
            let flushing = PQflush(conn)
            if flushing < 0 { throw Self.connectionError(conn, sql: nil, file: file, line: line) }
            if PQisBusy(conn) == 1 {
                try waitForSocket(conn, write: flushing == 1, file: file, line: line)
                if PQconsumeInput(conn) == 0 { throw Self.connectionError(conn, sql: nil, file: file, line: line) }
                continue
            }
            guard let result = PQgetResult(conn) else {
                // NULL closes the results of one statement; on a dead connection it is all libpq has left.
                if PQstatus(conn) != CONNECTION_OK { throw Self.connectionError(conn, sql: nil, file: file, line: line) }
                results.append(current ?? PostgresRows(columns: [], commandTag: "", affectedRows: 0, storage: [], cells: []))
                current = nil
                index += 1
                continue
            }
            let status = PQresultStatus(result)
            if status == PGRES_PIPELINE_SYNC {
                PQclear(result)
                break
            }
            if status == PGRES_PIPELINE_ABORTED {
                PQclear(result)
                continue
            }
            let sql = index < statements.count ? statements[index].sql : nil
            do {
                current = try consume(conn, result, sql: sql, file: file, line: line)
            } catch let error as PostgresError {
                if firstError == nil {
                    var error = error
                    error.message = "Statement \(index + 1) of \(statements.count) in the pipeline failed: \(error.message)"
                    firstError = error
                }
            }
            if PQstatus(conn) != CONNECTION_OK { break }
        }
        if let firstError { throw firstError }
        return results
    }

    /// Waits with `poll()` until the socket is readable (or writable, while libpq still has data to send).
    func waitForSocket(_ conn: OpaquePointer, write: Bool, timeoutMs: Int32 = -1, file: String, line: Int) throws {
        var fd = pollfd(fd: PQsocket(conn), events: Int16(POLLIN) | (write ? Int16(POLLOUT) : 0), revents: 0)
        while true {
            let ready = poll(&fd, 1, timeoutMs)
            if ready >= 0 { return }
            if errno != EINTR {
                throw PostgresError(code: .connectionLost, message: "poll() on the connection failed (errno \(errno))",
                                    file: file, line: line)
            }
        }
    }
}
