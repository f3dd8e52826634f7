import CicloCampaigns
import Foundation
import Postgres

/// What a customer row is checked against, loaded from the server once per import: the IANA zone names the server
/// knows (so quiet hours can always be computed in the stored zone) and the attribute catalogue (so a segment's
/// cast of a declared attribute can never fail on an imported value).
struct CustomerRules: Sendable {
    /// Lower-cased zone name to the server's spelling: `europe/lisbon` is stored as `Europe/Lisbon`.
    var timezones: [String: String]
    var catalogue: AttributeCatalogue

    static let timezonesSQL = "SELECT name FROM pg_timezone_names"
    static let catalogueSQL = "SELECT name, type FROM customer_attributes"

    static func load(on conn: PostgresConnection) async throws -> CustomerRules {
        var timezones: [String: String] = [:]
        for row in try await conn.query(timezonesSQL) {
            let name = try row.decode(String.self, at: 0)
            timezones[name.lowercased()] = name
        }
        var types: [String: AttributeCatalogue.AttributeType] = [:]
        for row in try await conn.query(catalogueSQL) {
            if let type = AttributeCatalogue.AttributeType(rawValue: try row.decode(String.self, at: 1)) {
                types[try row.decode(String.self, at: 0)] = type
            }
        }
        return CustomerRules(timezones: timezones, catalogue: AttributeCatalogue(types))
    }

    func timezone(_ text: String) throws(RowRejection) -> String {
        guard let name = timezones[text.lowercased()] else {
            throw RowRejection("timezone \(quoted(text)) is not an IANA zone the server knows (e.g. Europe/Lisbon)")
        }
        return name
    }

    /// A BCP 47 style tag: a 2-3 letter language, then subtags of 1-8 letters or digits (`pt`, `pt-BR`, `zh-Hant`).
    func locale(_ text: String) throws(RowRejection) -> String {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        let languageOK = (2...3).contains(parts[0].count) && parts[0].allSatisfy { $0.isASCII && $0.isLetter }
        let restOK = parts.dropFirst().allSatisfy { part in
            (1...8).contains(part.count) && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
        }
        guard languageOK && restOK else {
            throw RowRejection("locale \(quoted(text)) is not a language tag like en, pt-BR or zh-Hant")
        }
        return text
    }

    /// A CSV cell for attribute `name`, typed by the catalogue (undeclared attributes stay text).
    func attribute(_ name: String, csv text: String) throws(RowRejection) -> Any {
        switch catalogue[name] {
        case nil, .text?:
            return text
        case .number?:
            if let integer = Int64(text) { return NSNumber(value: integer) }
            guard let number = Double(text), number.isFinite else {
                throw RowRejection("attribute \(quoted(name)) is declared number but is \(quoted(text))")
            }
            return NSNumber(value: number)
        case .boolean?:
            guard let value = Self.boolean(text) else {
                throw RowRejection(
                    "attribute \(quoted(name)) is declared boolean but is \(quoted(text)) (use true or false)")
            }
            return NSNumber(value: value)
        case .date?:
            guard RFC3339.isDateOrTimestamp(text) else {
                throw RowRejection("attribute \(quoted(name)) is declared date but is \(quoted(text)) (use YYYY-MM-DD)")
            }
            return text
        case .list?:
            return Self.list(text)
        }
    }

    /// Checks a JSON attribute value against the catalogue; null is allowed for any type (and stored as null).
    func checkAttribute(_ name: String, json value: Any) throws(RowRejection) {
        guard let type = catalogue[name], !JSONValue.isNull(value) else { return }
        let fits: Bool
        switch type {
        case .text: fits = value is String
        case .number: fits = JSONValue.number(value) != nil
        case .boolean: fits = JSONValue.bool(value) != nil
        case .date: fits = (value as? String).map(RFC3339.isDateOrTimestamp) ?? false
        case .list: fits = (value as? [Any])?.allSatisfy { $0 is String } ?? false
        }
        guard fits else {
            let expected = type == .list ? "a list of strings" : type == .date ? "a YYYY-MM-DD date" : type.rawValue
            throw RowRejection("attribute \(quoted(name)) is declared \(expected) but is \(JSONValue.typeName(value))")
        }
    }

    /// `true` / `false` in any case; anything else is not a boolean.
    static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }

    /// A `;`-separated CSV list: items trimmed, empty ones dropped, repeats dropped (first kept).
    static func list(_ text: String) -> [String] {
        var seen = Set<String>()
        var items: [String] = []
        for part in text.split(separator: ";") {
            let item = String(part).trimmedASCII
            if !item.isEmpty && seen.insert(item).inserted { items.append(item) }
        }
        return items
    }
}
