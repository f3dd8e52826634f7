import Foundation
import Postgres

/// `ciclo events import`: a JSON Lines file of events, stored once each.
///
/// Like the customer import: streamed through COPY into a temporary staging table, then one set-based INSERT, in
/// one transaction. An event of a customer that does not exist is a rejected row. Every stored event has a
/// `source_id` (its own `id`, or one derived from its content) under a unique index, so importing the same file
/// again, or an overlapping export, inserts only what is new; the first line of a repeated id wins.
public struct EventImporter: Sendable {
    public var options: ImportOptions

    public init(options: ImportOptions = .init()) {
        self.options = options
    }

    static let createStagingSQL = """
        CREATE TEMP TABLE import_events (
            line bigint NOT NULL,
            reason text,
            customer text, kind text, payload jsonb, occurred_at timestamptz, source_id text
        ) ON COMMIT DROP
        """
    static let copySQL = "COPY import_events FROM STDIN"
    static let analyzeSQL = "ANALYZE import_events"

    /// Served by the unique index on customers.external_id.
    static let markUnknownSQL = """
        UPDATE import_events s
        SET reason = format('customer %s is unknown; import the customer first', to_jsonb(left(s.customer, 60))::text)
        WHERE s.reason IS NULL AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.external_id = s.customer)
        """

    /// The derived source id hashes the customer, the kind, the instant in UTC and the payload's jsonb text, which
    /// PostgreSQL writes canonically (keys sorted, spacing fixed): the same event always hashes the same, however
    /// its JSON was spelled. Computed here rather than in Swift so it stays one set-based statement.
    ///
    /// events is partitioned by occurred_at, so its unique index is (source_id, occurred_at) (schema 0011). A
    /// source id is still stored once whatever its time: DISTINCT ON keeps the first line of an id repeated in the
    /// file, and NOT EXISTS skips an id already stored at another time (a probe of events_source_id's leading
    /// column in each partition). ON CONFLICT covers a concurrent import of the same event. Rows go in source_id
    /// order, so concurrent imports of overlapping files wait on each other in one order and cannot deadlock.
    static let insertSQL = """
        WITH inserted AS (
            INSERT INTO events (customer_id, kind, payload, occurred_at, source_id)
            SELECT customer_id, kind, payload, occurred_at, source_id
            FROM (SELECT DISTINCT ON (source_id) customer_id, kind, payload, occurred_at, source_id
                  FROM (SELECT s.line, c.id AS customer_id, s.kind, s.payload, s.occurred_at,
                               coalesce(s.source_id, 'sha256:' || encode(sha256(convert_to(jsonb_build_array(
                                   s.customer, s.kind,
                                   to_char(s.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                                   s.payload)::text, 'UTF8')), 'hex')) AS source_id
                        FROM import_events s
                        JOIN customers c ON c.external_id = s.customer
                        WHERE s.reason IS NULL) staged
                  ORDER BY source_id, line) e
            WHERE NOT EXISTS (SELECT FROM events x WHERE x.source_id = e.source_id)
            ORDER BY source_id
            ON CONFLICT (source_id, occurred_at) DO NOTHING
            RETURNING 1
        )
        SELECT count(*) FROM inserted
        """

    static let acceptedSQL = "SELECT count(*) FROM import_events WHERE reason IS NULL"

    static let rejectQueries = StagedImport.RejectQueries(table: "import_events")

    /// Imports `path` (JSON Lines whatever its name). Throws `ImportError` for a file that cannot be used at all;
    /// bad lines are counted and listed in the report, and the good ones are stored.
    public func run(path: String, on conn: PostgresConnection) async throws -> ImportReport {
        try StagedImport.checkReadable(path)
        let rejectsFile = try StagedImport.openRejectsFile(options.rejectsFile)
        defer { try? rejectsFile?.close() }
        let options = self.options
        return try await conn.withTransaction { conn in
            try await conn.query(Self.createStagingSQL)
            var ticker = ProgressTicker(options)
            let read = try await conn.copyFrom(Self.copySQL) { writer in
                try Self.stream(path: path, ticker: &ticker, into: &writer)
            }
            ticker.applying()
            try await conn.query(Self.analyzeSQL)
            try await conn.query(Self.markUnknownSQL)
            let accepted = try await conn.query(Self.acceptedSQL).scalar(Int.self)
            let inserted = try await conn.query(Self.insertSQL).scalar(Int.self)
            let rejects = try await StagedImport.rejects(
                Self.rejectQueries, limit: options.listedRejects, file: rejectsFile, on: conn)
            return ImportReport(
                kind: .events, read: read, inserted: inserted, updated: accepted - inserted, rejected: rejects.count,
                firstRejects: rejects.first)
        }
    }

    static func stream(path: String, ticker: inout ProgressTicker, into writer: inout PostgresCopyWriter) throws {
        var lines = try JSONLinesReader(path: path)
        while let next = try lines.next() {
            ticker.row()
            let row: [any PostgresEncodable]
            switch next {
            case .text(let line, let data):
                do {
                    row = try EventRecord.stagingRow(try JSONValue.object(data), line: line)
                } catch {
                    row = EventRecord.rejectedRow(line: line, reason: error.reason)
                }
            case .tooLong(let line):
                row = EventRecord.rejectedRow(
                    line: line, reason: "is longer than \(JSONLinesReader.maxLineBytes >> 20) MiB")
            }
            try writer.write(row)
        }
    }
}
