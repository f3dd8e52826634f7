import Foundation
import Postgres

/// Events that arrive over HTTP (`POST /events`): one JSON object or an array of them, in the same shape as a line
/// of `ciclo events import`, checked by the same rules and stored by the same staging table and INSERT, so the two
/// ways in can never disagree. Unlike a file import, a batch is all or nothing: one bad item rejects the batch and
/// nothing of it is stored.
public enum EventBatch {
    /// Why a batch was refused: which item (1-based; nil for the body as a whole) and what is wrong with it.
    public struct Rejection: Error, Sendable, Equatable, CustomStringConvertible {
        public var item: Int?
        public var reason: String

        public var description: String { item.map { "item \($0): \(reason)" } ?? reason }
    }

    /// Checked events, ready to store.
    public struct Parsed: Sendable {
        let rows: [[any PostgresEncodable]]
        public var count: Int { rows.count }
    }

    /// Most events one batch may carry.
    public static let maxItems = 10_000

    /// Parses and checks a body: a JSON object (one event) or an array of objects.
    public static func parse(_ body: Data) throws(Rejection) -> Parsed {
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw Rejection(item: nil, reason: "the body is not valid JSON" + (detail.map { " (\($0))" } ?? ""))
        }
        let items: [Any]
        if let object = value as? [String: Any] {
            items = [object]
        } else if let array = value as? [Any] {
            items = array
        } else {
            throw Rejection(item: nil, reason: "the body must be an event object or an array of them")
        }
        guard !items.isEmpty else { throw Rejection(item: nil, reason: "the batch holds no events") }
        guard items.count <= maxItems else {
            throw Rejection(item: nil, reason: "the batch holds \(items.count) events; send at most \(maxItems)")
        }
        var rows: [[any PostgresEncodable]] = []
        rows.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            guard let object = item as? [String: Any] else {
                throw Rejection(item: index + 1, reason: "is not a JSON object")
            }
            do {
                rows.append(try EventRecord.stagingRow(object, line: index + 1))
            } catch {
                throw Rejection(item: index + 1, reason: error.reason)
            }
        }
        return Parsed(rows: rows)
    }

    /// Stores a parsed batch in one transaction, through the importer's staging table and INSERT: every event once
    /// (an id seen before is not stored again). Throws `Rejection` naming the first item whose customer is unknown,
    /// and then nothing is stored. Returns how many events were new.
    public static func store(_ batch: Parsed, on conn: PostgresConnection) async throws -> Int {
        try await conn.withTransaction { conn in
            try await conn.query(EventImporter.createStagingSQL)
            try await conn.copyFrom(EventImporter.copySQL) { writer in
                for row in batch.rows { try writer.write(row) }
            }
            try await conn.query(EventImporter.markUnknownSQL)
            if let rejected = try await conn.query(EventImporter.rejectQueries.first, [1]).first {
                throw Rejection(item: try rejected.decode(Int.self, at: 0), reason: try rejected.decode(at: 1))
            }
            return try await conn.query(EventImporter.insertSQL).scalar(Int.self)
        }
    }
}
