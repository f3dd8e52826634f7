/// A customers JSON Lines object as a `CustomerRecord`.
///
/// Keys: `external_id` (string or integer, required), `email`, `phone`, `push_token`, `locale`, `timezone`,
/// `stage`, `persona` (strings), `product_preferences` (array of strings), `attributes` (object), `consent`
/// (object of channel to boolean), `last_seen_at` (RFC 3339). A missing key, null or "" means "not given": the
/// stored value stays. An unknown key rejects the row (a typo would otherwise drop the value unseen).
enum CustomerJSON {
    static func record(_ object: [String: Any], rules: CustomerRules) throws(RowRejection) -> CustomerRecord {
        var record = CustomerRecord()
        // Sorted, so a row with several problems is always reported with the same one.
        for key in object.keys.sorted() {
            guard let value = object[key], !JSONValue.isNull(value) else { continue }
            if let field = CustomerRecord.TextField(rawValue: key) {
                let text = field == .externalID ? JSONValue.identifier(value) : value as? String
                guard let text else { throw RowRejection("\(key) must be a string, not \(JSONValue.typeName(value))") }
                if !text.isEmpty { try record.set(field, text) }
                continue
            }
            switch key {
            case "locale": if let text = try string(key, value) { record.locale = try rules.locale(text) }
            case "timezone": if let text = try string(key, value) { record.timezone = try rules.timezone(text) }
            case "last_seen_at": if let text = try string(key, value) { try record.setLastSeen(text) }
            case "product_preferences":
                guard let items = value as? [Any], let strings = items as? [String] else {
                    throw RowRejection("product_preferences must be an array of strings")
                }
                try record.setProductPreferences(strings)
            case "attributes":
                guard let attributes = value as? [String: Any] else {
                    throw RowRejection("attributes must be an object, not \(JSONValue.typeName(value))")
                }
                for name in attributes.keys.sorted() { try rules.checkAttribute(name, json: attributes[name]!) }
                try record.mergeAttributes(attributes)
            case "consent":
                guard let consent = value as? [String: Any] else {
                    throw RowRejection(
                        "consent must be an object like {\"email\": true}, not \(JSONValue.typeName(value))")
                }
                for name in consent.keys.sorted() {
                    guard let granted = consent[name], !JSONValue.isNull(granted) else { continue }
                    guard let channel = ConsentChannel(rawValue: name) else {
                        throw RowRejection(
                            "consent names an unknown channel \(quoted(name)); use email, sms, push or webhook")
                    }
                    guard let granted = JSONValue.bool(granted) else {
                        throw RowRejection("consent.\(name) must be true or false, not \(JSONValue.typeName(granted))")
                    }
                    record.consent[channel] = granted
                }
            default:
                throw RowRejection("has an unknown field \(quoted(key))")
            }
        }
        return record
    }

    /// A string field's text, nil when empty.
    private static func string(_ key: String, _ value: Any) throws(RowRejection) -> String? {
        guard let text = value as? String else {
            throw RowRejection("\(key) must be a string, not \(JSONValue.typeName(value))")
        }
        return text.isEmpty ? nil : text
    }
}
