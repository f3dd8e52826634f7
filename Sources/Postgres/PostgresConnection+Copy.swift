import CLibPQ

/// Writes rows into a `COPY ... FROM STDIN` in PostgreSQL's text format, flushing to the server in large chunks.
public struct PostgresCopyWriter: ~Copyable {
    let conn: OpaquePointer
    private var buffer: [UInt8] = []
    /// Rows already handed to the server.
    public private(set) var rowsWritten = 0
    static let flushThreshold = 256 * 1024

    init(conn: OpaquePointer) {
        self.conn = conn
        buffer.reserveCapacity(Self.flushThreshold + 4096)
    }

    /// Appends one row; its values must match the COPY column list in number and order.
    public mutating func write(_ row: [any PostgresEncodable]) throws {
        for (index, value) in row.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: "\t")) }
            guard let text = try value.postgresText() else {
                buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
                continue
            }
            // Text-format COPY escapes: the delimiter, line ends and the backslash itself.
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case UInt8(ascii: "\t"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                case UInt8(ascii: "\n"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case UInt8(ascii: "\r"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                default: buffer.append(byte)
                }
            }
        }
        buffer.append(UInt8(ascii: "\n"))
        rowsWritten += 1
        if buffer.count >= Self.flushThreshold { try flush() }
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        let status = buffer.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { PQputCopyData(conn, $0.baseAddress, Int32($0.count)) }
        }
        guard status == 1 else {
            throw PostgresError(
                code: .connectionLost, message: "COPY data could not be sent: " + String(cString: PQerrorMessage(conn)).trimmingNewlines)
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

extension PostgresConnection {
    /// Bulk-loads rows with `COPY ... FROM STDIN` (text format). `sql` is the COPY statement; `body` writes the rows.
    /// The load is atomic: if `body` throws or the server rejects a row, nothing is stored. Returns the rows copied.
    @discardableResult
    public func copyFrom(
        _ sql: String, file: String = #fileID, line: Int = #line,
        _ body: (inout PostgresCopyWriter) throws -> Void
    ) async throws -> Int {
        try await withLiveHandle(file: file, line: line) { conn in
            guard let start = PQexec(conn, sql) else {
                throw Self.connectionError(conn, sql: sql, file: file, line: line)
            }
            guard PQresultStatus(start) == PGRES_COPY_IN else {
                defer { PQclear(start) }
                if PQresultStatus(start) == PGRES_FATAL_ERROR {
                    throw Self.error(conn, start, sql: sql, file: file, line: line)
                }
                throw PostgresError(
                    code: .misuse, message: "copyFrom needs a COPY ... FROM STDIN statement", statement: sql,
                    file: file, line: line)
            }
            PQclear(start)
            var writer = PostgresCopyWriter(conn: conn)
            var failure: (any Error)? = nil
            do {
                try body(&writer)
                try writer.flush()
            } catch {
                failure = error
            }
            // Ending with an error message makes the server abort the COPY, so a failed producer stores nothing.
            let reason = failure.map { "aborted by the client: \($0)" }
            _ = PQputCopyEnd(conn, reason)
            var copied = 0
            var serverError: PostgresError? = nil
            while let result = PQgetResult(conn) {
                do {
                    copied = try consume(conn, result, sql: sql, file: file, line: line).affectedRows
                } catch let error as PostgresError {
                    serverError = serverError ?? error
                }
            }
            if let failure { throw failure }
            if let serverError { throw serverError }
            return copied
        }
    }
}
