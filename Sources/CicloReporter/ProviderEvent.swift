import Foundation

/// One event in a provider webhook, in Ciclo's generic format. The body is one object or an array of them:
///
/// ```json
/// {"id": "evt-81", "type": "bounce_hard", "message_id": "<provider message id>",
///  "idempotency_key": "<the send's key, when the provider echoes it>", "occurred_at": "2026-03-01T09:30:00Z",
///  "data": {"smtp": "550 5.1.1 user unknown"}}
/// ```
///
/// `id` (the provider's event id, for deduplication), `type`, `occurred_at` (RFC 3339) and one of `message_id` or
/// `idempotency_key` are required; `data` is an optional object kept with the response.
struct ProviderEvent: Sendable, Equatable {
    /// The kinds Ciclo acts on. `unsubscribe` is the recipient's opt-out as the provider saw it (an SMS STOP reply,
    /// the provider's own unsubscribe or list-unsubscribe handling); it shares the one-click link's kind so the
    /// figures count both as one.
    static let types: Set<String> = ["delivered", "bounce_hard", "bounce_soft", "complaint", "failed", "unsubscribe"]
    static let keys: Set<String> = ["id", "type", "message_id", "idempotency_key", "occurred_at", "data"]

    var id: String
    var type: String
    var messageID: String?
    var idempotencyKey: String?
    var occurredAt: Date
    /// The `data` object as JSON text.
    var data: String

    /// Why a webhook body was refused: which item (1-based; nil for the body) and what is wrong with it.
    struct Rejection: Error, CustomStringConvertible {
        var item: Int?
        var reason: String
        var description: String { item.map { "event \($0): \(reason)" } ?? reason }
    }

    /// A well-formed event of a kind Ciclo does not know: a provider may add kinds at any time, and refusing the
    /// batch for one would lose the bounces and complaints beside it (providers seldom retry a 4xx).
    struct Skipped: Sendable, Equatable, Encodable {
        /// 1-based, as in a rejection's "event N".
        var index: Int
        var type: String
    }

    /// A parsed body: the events to store, in order, and those skipped for their kind.
    struct Batch: Sendable, Equatable {
        var events: [ProviderEvent] = []
        var skipped: [Skipped] = []
    }

    static let maxEvents = 1_000

    /// Parses a whole body. Any malformed event refuses the body, so nothing of it is stored, whatever its kind;
    /// an event that is well-formed but of an unknown kind is only skipped.
    static func parse(_ body: Data) throws(Rejection) -> Batch {
        guard let value = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) else {
            throw Rejection(item: nil, reason: "the body is not valid JSON")
        }
        let items: [Any]
        if let object = value as? [String: Any] { items = [object] }
        else if let array = value as? [Any] { items = array }
        else { throw Rejection(item: nil, reason: "the body must be an event object or an array of them") }
        guard !items.isEmpty else { throw Rejection(item: nil, reason: "the body holds no events") }
        guard items.count <= maxEvents else {
            throw Rejection(item: nil, reason: "the body holds \(items.count) events; send at most \(maxEvents)")
        }
        var batch = Batch()
        for (index, item) in items.enumerated() {
            let parsed: ProviderEvent
            do {
                parsed = try event(item)
            } catch {
                throw Rejection(item: index + 1, reason: error.reason)
            }
            if types.contains(parsed.type) {
                batch.events.append(parsed)
            } else {
                batch.skipped.append(Skipped(index: index + 1, type: parsed.type))
            }
        }
        return batch
    }

    /// Checks every field whatever the type, so an unknown kind with a malformed field is still refused.
    private static func event(_ item: Any) throws(Rejection) -> ProviderEvent {
        guard let object = item as? [String: Any] else { throw Rejection(reason: "is not a JSON object") }
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            throw Rejection(reason: "has an unknown field \"\(unknown.prefix(40))\"")
        }
        let id = try text(object, "id")
        guard let type = try optionalText(object, "type") else { throw Rejection(reason: "type is missing") }
        let messageID = try optionalText(object, "message_id")
        let key = try optionalText(object, "idempotency_key")
        guard messageID != nil || key != nil else {
            throw Rejection(reason: "names no send: give message_id or idempotency_key")
        }
        let time = try text(object, "occurred_at")
        guard let occurredAt = parseTime(time) else {
            throw Rejection(reason: "occurred_at \"\(time.prefix(40))\" is not an RFC 3339 time like 2026-03-01T09:30:00Z")
        }
        var data = "{}"
        if let value = object["data"], !(value is NSNull) {
            guard let fields = value as? [String: Any],
                  let encoded = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
            else { throw Rejection(reason: "data must be an object") }
            data = String(decoding: encoded, as: UTF8.self)
        }
        return ProviderEvent(
            id: id, type: type, messageID: messageID, idempotencyKey: key, occurredAt: occurredAt, data: data)
    }

    private static func text(_ object: [String: Any], _ key: String) throws(Rejection) -> String {
        guard let value = try optionalText(object, key) else { throw Rejection(reason: "\(key) is missing") }
        return value
    }

    private static func optionalText(_ object: [String: Any], _ key: String) throws(Rejection) -> String? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let text = value as? String, !text.isEmpty, text.utf8.count <= 500, !text.utf8.contains(0) else {
            throw Rejection(reason: "\(key) must be a non-empty string of at most 500 bytes")
        }
        return text
    }

    private static func parseTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}

extension ProviderEvent.Rejection {
    init(reason: String) { self.init(item: nil, reason: reason) }
}
