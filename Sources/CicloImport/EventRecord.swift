import Foundation
import Postgres

/// One event line of JSON Lines: `{"customer": "<external_id>", "kind": "purchase", "payload": {...},
/// "time": "2026-03-01T09:30:00Z", "id": "optional source event id"}`.
///
/// `customer` (string or integer), `kind` and `time` are required; `payload` is an object (default `{}`); `id`
/// (string or integer) is the source's own event id. Without one, the importer derives it from the event's content,
/// so importing the same file again stores nothing twice. An unknown key rejects the line.
enum EventRecord {
    static let keys: Set<String> = ["customer", "kind", "payload", "time", "id"]

    /// The staging row, in the order of `EventImporter.copySQL`.
    static func stagingRow(_ object: [String: Any], line: Int) throws(RowRejection) -> [any PostgresEncodable] {
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            throw RowRejection(
                "has an unknown field \(quoted(unknown)); an event has customer, kind, payload, time and id")
        }
        let customer = try identifier("customer", object["customer"], required: true)!
        guard let kindValue = object["kind"], !JSONValue.isNull(kindValue) else {
            throw RowRejection("kind is missing")
        }
        guard let kind = kindValue as? String, !kind.isEmpty, !kind.utf8.contains(0) else {
            throw RowRejection("kind must be a non-empty string")
        }
        guard let timeValue = object["time"], !JSONValue.isNull(timeValue) else {
            throw RowRejection("time is missing")
        }
        guard let timeText = timeValue as? String, let time = RFC3339.timestamp(timeText) else {
            let shown = (timeValue as? String).map { quoted($0) } ?? JSONValue.typeName(timeValue)
            throw RowRejection("time \(shown) is not an RFC 3339 time like 2026-03-01T09:30:00Z")
        }
        var payload = "{}"
        if let value = object["payload"], !JSONValue.isNull(value) {
            guard let fields = value as? [String: Any] else {
                throw RowRejection("payload must be an object, not \(JSONValue.typeName(value))")
            }
            guard !JSONValue.containsNUL(fields) else { throw RowRejection("payload contains a NUL character") }
            payload = try JSONText.text(fields)
        }
        let id = try identifier("id", object["id"], required: false)
        return [line, String?.none, customer, kind, JSONB(payload), time, id]
    }

    static func rejectedRow(line: Int, reason: String) -> [any PostgresEncodable] {
        [line, reason] + rejectedPadding
    }

    private static let rejectedPadding: [any PostgresEncodable] = Array(repeating: String?.none, count: 5)

    private static func identifier(_ key: String, _ value: Any?, required: Bool) throws(RowRejection) -> String? {
        guard let value, !JSONValue.isNull(value) else {
            if required { throw RowRejection("\(key) is missing") }
            return nil
        }
        guard let text = JSONValue.identifier(value), !text.isEmpty, !text.utf8.contains(0) else {
            throw RowRejection("\(key) must be a non-empty string or an integer, not \(JSONValue.typeName(value))")
        }
        return text
    }
}
