import Foundation
import Postgres

/// What the customer and event imports share: checking the file before anything starts, and reading the rejected
/// rows back from the staging table, where bad rows are staged with their reason beside the good ones.
enum StagedImport {
    /// A missing, unreadable or folder path fails before any transaction starts.
    static func checkReadable(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImportError(.unreadable, "\(path) does not exist.")
        }
        guard !isDirectory.boolValue else { throw ImportError(.unreadable, "\(path) is a folder, not a file.") }
        guard FileManager.default.isReadableFile(atPath: path), let handle = FileHandle(forReadingAtPath: path) else {
            throw ImportError(.unreadable, "\(path) cannot be read (check its permissions).")
        }
        try? handle.close()
    }

    /// Creates (or empties) the rejects file up front, so an unwritable path fails before any work is done.
    static func openRejectsFile(_ url: URL?) throws -> FileHandle? {
        guard let url else { return nil }
        guard FileManager.default.createFile(atPath: url.path, contents: nil),
            let handle = try? FileHandle(forWritingTo: url)
        else {
            throw ImportError(.rejectsUnwritable, "The rejects file \(url.path) cannot be written.")
        }
        return handle
    }

    /// The statements that read one staging table's rejected rows.
    struct RejectQueries {
        let count: String
        let first: String
        let declare: String
        static let fetch = "FETCH FORWARD 10000 FROM import_rejects"
        static let close = "CLOSE import_rejects"

        /// `table` is one of the importers' own staging table names, never input.
        init(table: StaticString) {
            count = "SELECT count(*) FROM \(table) WHERE reason IS NOT NULL"
            first = "SELECT line, reason FROM \(table) WHERE reason IS NOT NULL ORDER BY line LIMIT $1"
            declare =
                "DECLARE import_rejects NO SCROLL CURSOR FOR "
                + "SELECT line, reason FROM \(table) WHERE reason IS NOT NULL ORDER BY line"
        }
    }

    /// Counts the rejected rows, returns the first `limit`, and writes all of them to `file` (through a cursor, so
    /// a file with millions of bad rows does not fill memory). Runs inside the import's transaction.
    static func rejects(
        _ queries: RejectQueries, limit: Int, file: FileHandle?, on conn: PostgresConnection
    ) async throws -> (count: Int, first: [RejectedRow]) {
        let count = try await conn.query(queries.count).scalar(Int.self)
        let first = try await conn.query(queries.first, [limit]).map {
            RejectedRow(line: try $0.decode(Int.self, at: 0), reason: try $0.decode(String.self, at: 1))
        }
        if let file, count > 0 {
            try await conn.query(queries.declare)
            while true {
                let rows = try await conn.query(RejectQueries.fetch)
                if rows.isEmpty { break }
                var text = ""
                for row in rows {
                    let reason = try row.decode(String.self, at: 1)
                    // One line per row, whatever a parser's message held.
                    let flat = reason.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(
                        of: "\n", with: " "
                    )
                    .replacingOccurrences(of: "\r", with: " ")
                    text += "\(try row.decode(Int.self, at: 0))\t\(flat)\n"
                }
                do {
                    try file.write(contentsOf: Data(text.utf8))
                } catch {
                    throw ImportError(
                        .rejectsUnwritable, "The rejects file could not be written: \(error.localizedDescription).")
                }
            }
            try await conn.query(RejectQueries.close)
        }
        return (count, first)
    }
}
