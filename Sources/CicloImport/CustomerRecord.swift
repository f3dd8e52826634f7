import Foundation
import Postgres

/// The channels a customer can consent to.
enum ConsentChannel: String, CaseIterable {
    case email, sms, push, webhook
}

/// One customer as read from a row, before it is staged. A nil field was not given: the upsert keeps what is stored.
struct CustomerRecord {
    var externalID: String?
    var email: String?
    var phone: String?
    var pushToken: String?
    var locale: String?
    var timezone: String?
    var stage: String?
    var persona: String?
    var productPreferences: [String]?
    var attributes: [String: Any]?
    var consent: [ConsentChannel: Bool] = [:]
    var lastSeenAt: PostgresTimestamp?

    /// The plain text fields, by their name in files.
    enum TextField: String, CaseIterable {
        case externalID = "external_id"
        case email, phone
        case pushToken = "push_token"
        case stage, persona
    }

    mutating func set(_ field: TextField, _ value: String) throws(RowRejection) {
        guard !value.utf8.contains(0) else { throw RowRejection("\(field.rawValue) contains a NUL character") }
        switch field {
        case .externalID: externalID = value
        case .email: email = value
        case .phone: phone = value
        case .pushToken: pushToken = value
        case .stage: stage = value
        case .persona: persona = value
        }
    }

    mutating func setLastSeen(_ text: String) throws(RowRejection) {
        guard let time = RFC3339.timestamp(text) else {
            throw RowRejection("last_seen_at \(quoted(text)) is not an RFC 3339 time like 2026-03-01T09:30:00Z")
        }
        lastSeenAt = time
    }

    mutating func setProductPreferences(_ items: [String]) throws(RowRejection) {
        guard !items.contains(where: { $0.utf8.contains(0) }) else {
            throw RowRejection("product_preferences contains a NUL character")
        }
        productPreferences = items
    }

    /// Adds attributes over those already given in this row (a CSV row may have both `attributes` and `attr.X`).
    mutating func mergeAttributes(_ values: [String: Any]) throws(RowRejection) {
        guard !JSONValue.containsNUL(values) else { throw RowRejection("attributes contain a NUL character") }
        attributes = (attributes ?? [:]).merging(values) { $1 }
    }

    /// The staging row, in the order of `CustomerImporter.copySQL`.
    func stagingRow(line: Int) throws(RowRejection) -> [any PostgresEncodable] {
        guard let externalID, !externalID.isEmpty else { throw RowRejection("external_id is missing") }
        var attributesJSON: JSONB? = nil
        if let attributes { attributesJSON = JSONB(try JSONText.text(attributes)) }
        return [
            line, String?.none, externalID, email, phone, pushToken, locale, timezone, stage, persona,
            productPreferences, attributesJSON,
            consent[.email], consent[.sms], consent[.push], consent[.webhook], lastSeenAt,
        ]
    }

    /// A rejected row: its line and reason, and NULL for everything else.
    static func rejectedRow(line: Int, reason: String) -> [any PostgresEncodable] {
        [line, reason] + rejectedPadding
    }

    private static let rejectedPadding: [any PostgresEncodable] = Array(repeating: String?.none, count: 15)
}
