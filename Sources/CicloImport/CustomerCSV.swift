import Foundation

/// The columns of a customers CSV, from its header row, and how a record's cells become a `CustomerRecord`.
///
/// Columns: `external_id` (required), `email`, `phone`, `push_token`, `locale`, `timezone`, `stage`, `persona`,
/// `product_preferences` (`;`-separated), `last_seen_at` (RFC 3339), `attributes` (a JSON object),
/// `attr.NAME` (one attribute), `consent.email|sms|push|webhook` (true, false or empty). An empty cell means "not
/// given": the stored value stays. An unknown column is an error for the whole file, since it is most likely a
/// typo that would otherwise drop a column of data without a word.
struct CustomerCSVHeader {
    enum Column: Equatable {
        case text(CustomerRecord.TextField)
        case locale, timezone, lastSeenAt, productPreferences, attributes
        case consent(ConsentChannel)
        case attribute(String)
    }

    let columns: [Column]

    init(_ names: [String], path: String) throws {
        var columns: [Column] = []
        for name in names {
            let column = try Self.column(name, path: path)
            if columns.contains(column) {
                throw ImportError(.badFile, "\(path): the header names the column \(quoted(name)) twice.")
            }
            columns.append(column)
        }
        guard columns.contains(.text(.externalID)) else {
            throw ImportError(.badFile, "\(path): the header has no external_id column, which every customer needs.")
        }
        self.columns = columns
    }

    private static func column(_ name: String, path: String) throws -> Column {
        let lower = name.lowercased()
        if let field = CustomerRecord.TextField(rawValue: lower) { return .text(field) }
        switch lower {
        case "locale": return .locale
        case "timezone": return .timezone
        case "last_seen_at": return .lastSeenAt
        case "product_preferences": return .productPreferences
        case "attributes": return .attributes
        default: break
        }
        if lower.hasPrefix("consent."), let channel = ConsentChannel(rawValue: String(lower.dropFirst(8))) {
            return .consent(channel)
        }
        if lower.hasPrefix("attr.") && name.count > 5 { return .attribute(String(name.dropFirst(5))) }
        throw ImportError(
            .badFile,
            """
            \(path): the header names an unknown column \(quoted(name)); the columns are external_id, email, phone, \
            push_token, locale, timezone, stage, persona, product_preferences, last_seen_at, attributes, \
            attr.NAME and consent.email|sms|push|webhook.
            """)
    }

    func record(_ fields: [String], rules: CustomerRules) throws(RowRejection) -> CustomerRecord {
        guard fields.count == columns.count else {
            throw RowRejection("has \(fields.count) fields but the header has \(columns.count)")
        }
        var record = CustomerRecord()
        var attributes: [String: Any] = [:]
        for (column, value) in zip(columns, fields) where !value.isEmpty {
            switch column {
            case .text(let field): try record.set(field, value)
            case .locale: record.locale = try rules.locale(value)
            case .timezone: record.timezone = try rules.timezone(value)
            case .lastSeenAt: try record.setLastSeen(value)
            case .productPreferences: try record.setProductPreferences(CustomerRules.list(value))
            case .attributes: try record.mergeAttributes(try Self.attributesObject(value, rules: rules))
            case .attribute(let name): attributes[name] = try rules.attribute(name, csv: value)
            case .consent(let channel):
                guard let granted = CustomerRules.boolean(value) else {
                    throw RowRejection(
                        "consent.\(channel.rawValue) is \(quoted(value)); use true, false or leave it empty")
                }
                record.consent[channel] = granted
            }
        }
        // attr.NAME columns win over the same name inside the attributes column.
        if !attributes.isEmpty { try record.mergeAttributes(attributes) }
        return record
    }

    private static func attributesObject(_ text: String, rules: CustomerRules) throws(RowRejection) -> [String: Any] {
        let object: [String: Any]
        do {
            object = try JSONValue.object(Data(text.utf8))
        } catch {
            throw RowRejection("the attributes column \(error.reason)")
        }
        for name in object.keys.sorted() { try rules.checkAttribute(name, json: object[name]!) }
        return object
    }
}
