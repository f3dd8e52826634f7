import CicloQueue
import Foundation
import Postgres

/// The values a template can use for one send, flattened to dotted names:
/// - `customer.*`: first_name, last_name, email, phone, locale, stage, persona, external_id, and
///   `customer.attributes.<name>` for each scalar attribute (first_name and last_name also come from attributes);
/// - `campaign.key`, `campaign.name`;
/// - `send.key`, `send.unsubscribe_url`, `send.unsubscribe_mailto`;
/// - whatever the job's payload carries under `variables` (offer codes, product names...), as given.
public enum SendVariables {
    public static func values(for job: ClaimedJob, links: [String: String]) -> [String: String] {
        var values: [String: String] = [:]
        if let customer = json(job.customer) {
            for field in ["email", "phone", "locale", "stage", "persona", "external_id", "timezone"] {
                if let value = scalar(customer[field]) { values["customer.\(field)"] = value }
            }
            if case .object(let attributes)? = customer["attributes"] {
                for (name, raw) in attributes {
                    guard let value = scalar(raw) else { continue }
                    values["customer.attributes.\(name)"] = value
                    if name == "first_name" || name == "last_name" { values["customer.\(name)"] = value }
                }
            }
        }
        if let campaign = json(job.campaign) {
            if let key = scalar(campaign["key"]) { values["campaign.key"] = key }
            if let name = scalar(campaign["name"]) { values["campaign.name"] = name }
        }
        values["send.key"] = job.idempotencyKey
        for (name, link) in links { values["send.\(name)"] = link }
        if let payload = json(job.payload), case .object(let variables)? = payload["variables"] {
            for (name, raw) in variables { if let value = scalar(raw) { values[name] = value } }
        }
        return values
    }

    /// The variant the scheduler chose for this send, or "default".
    public static func variant(of job: ClaimedJob) -> String {
        scalar(json(job.payload)?["variant"]) ?? "default"
    }

    /// The campaign definition's `delivery` object, as JSON for decoding settings.
    static func definition(of job: ClaimedJob) -> JSONB? {
        guard let campaign = job.campaign,
              let object = try? JSONSerialization.jsonObject(with: Data(campaign.text.utf8)) as? [String: Any],
              let definition = object["definition"] as? [String: Any], let delivery = definition["delivery"],
              let data = try? JSONSerialization.data(withJSONObject: delivery)
        else { return nil }
        return JSONB(String(decoding: data, as: UTF8.self))
    }

    static func json(_ value: JSONB?) -> [String: JSONValue]? {
        guard let value, case .object(let object)? = try? value.decode(JSONValue.self) else { return nil }
        return object
    }

    static func scalar(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let string): return string
        case .integer(let number): return String(number)
        case .number(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        default: return nil
        }
    }
}

/// Any JSON value, decoded with JSONDecoder so booleans and numbers stay apart on every platform.
enum JSONValue: Decodable, Sendable {
    case string(String), integer(Int64), number(Double), bool(Bool), object([String: JSONValue]), array([JSONValue])
    case null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([String: JSONValue].self) { self = .object(value) }
        else { self = .array(try container.decode([JSONValue].self)) }
    }
}
