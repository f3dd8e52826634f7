import CLibPQ

extension PostgresConnection {
    /// Turns a libpq result into rows or an error, and clears it.
    func consume(
        _ conn: OpaquePointer, _ result: OpaquePointer?, sql: String?, file: String, line: Int
    ) throws -> PostgresRows {
        guard let result else {
            throw Self.connectionError(conn, sql: sql, file: file, line: line)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return Self.rows(from: result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            Self.abandonCopy(conn)
            throw PostgresError(
                code: .misuse, message: "A COPY statement must be run with copyFrom", statement: sql, file: file,
                line: line)
        default:
            throw Self.error(conn, result, sql: sql, file: file, line: line)
        }
    }

    /// Ends a COPY that was started where none is allowed, so the connection is idle again: COPY IN is aborted
    /// (nothing is stored), COPY OUT is read to its end and dropped.
    static func abandonCopy(_ conn: OpaquePointer) {
        _ = PQputCopyEnd(conn, "COPY must be run with copyFrom")
        var buffer: UnsafeMutablePointer<CChar>? = nil
        while PQgetCopyData(conn, &buffer, 0) > 0 {
            PQfreemem(buffer)
            buffer = nil
        }
        while let result = PQgetResult(conn) { PQclear(result) }
    }

    /// Copies every value of a result into one Swift buffer.
    static func rows(from result: OpaquePointer) -> PostgresRows {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns: [PostgresRows.Column] = []
        columns.reserveCapacity(columnCount)
        for c in 0..<columnCount {
            columns.append(
                .init(name: String(cString: PQfname(result, Int32(c))), type: PostgresDataType(PQftype(result, Int32(c)))))
        }
        var total = 0
        for r in 0..<rowCount {
            for c in 0..<columnCount { total += Int(PQgetlength(result, Int32(r), Int32(c))) }
        }
        var storage: [UInt8] = []
        storage.reserveCapacity(total)
        var cells: [(start: Int32, length: Int32)] = []
        cells.reserveCapacity(rowCount * columnCount)
        for r in 0..<rowCount {
            for c in 0..<columnCount {
                if PQgetisnull(result, Int32(r), Int32(c)) == 1 {
                    cells.append((start: 0, length: -1))
                    continue
                }
                let length = Int(PQgetlength(result, Int32(r), Int32(c)))
                cells.append((start: Int32(storage.count), length: Int32(length)))
                if let value = PQgetvalue(result, Int32(r), Int32(c)), length > 0 {
                    storage.append(contentsOf: UnsafeRawBufferPointer(start: value, count: length))
                }
            }
        }
        let tag = String(cString: PQcmdStatus(result))
        let affected = Int(String(cString: PQcmdTuples(result))) ?? rowCount
        return PostgresRows(columns: columns, commandTag: tag, affectedRows: affected, storage: storage, cells: cells)
    }

    /// The error a failed result carries, classified: a lost connection, a cancelled statement, or a server error.
    static func error(_ conn: OpaquePointer, _ result: OpaquePointer, sql: String?, file: String, line: Int)
        -> PostgresError
    {
        func field(_ code: Int32) -> String? {
            PQresultErrorField(result, code).map { String(cString: $0) }
        }
        let sqlState = field(Int32(UInt8(ascii: "C")))
        let primary = field(Int32(UInt8(ascii: "M"))) ?? String(cString: PQresultErrorMessage(result)).trimmingNewlines
        let code: PostgresError.Code
        if PQstatus(conn) != CONNECTION_OK {
            code = .connectionLost
        } else if sqlState == PostgresError.SQLState.queryCanceled {
            code = .queryCanceled
        } else {
            code = .server
        }
        return PostgresError(
            code: code, message: primary.isEmpty ? "the server closed the connection" : primary, sqlState: sqlState,
            detail: field(Int32(UInt8(ascii: "D"))), hint: field(Int32(UInt8(ascii: "H"))),
            position: field(Int32(UInt8(ascii: "P"))).flatMap { Int($0) }, statement: sql, file: file, line: line)
    }

    /// The error for a call that produced no result at all: the connection is gone or memory ran out.
    static func connectionError(_ conn: OpaquePointer, sql: String?, file: String, line: Int) -> PostgresError {
        let message = String(cString: PQerrorMessage(conn)).trimmingNewlines
        let lost = PQstatus(conn) != CONNECTION_OK
        return PostgresError(
            code: lost ? .connectionLost : .protocolError,
            message: message.isEmpty ? "libpq returned no result" : message, statement: sql, file: file, line: line)
    }
}
