import CicloChannels
import CicloQueue
import Foundation
import Postgres

/// A claimed job's JSON (customer, campaign, payload) parsed once: the handler reads the template variables, the
/// variant, the contact fields and the campaign's delivery settings all from here.
struct SendContext {
    let job: ClaimedJob
    let customer: CustomerText
    let campaign: [String: JSONValue]
    let payload: [String: JSONValue]

    /// The campaign's JSON and the payload, which repeat from job to job, come from `parsed`.
    init(_ job: ClaimedJob, parsed: ParsedJSON) {
        self.job = job
        customer = job.customer ?? CustomerText()
        campaign = parsed.campaign(job.campaignID, json: job.campaign)
        payload = parsed.payload(job.payload)
    }

    /// A customer field as text (`email`, `phone`, `locale`...), nil when absent or empty.
    func customerField(_ name: String) -> String? {
        customer.fields[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    var campaignKey: String? { Self.scalar(campaign["key"]) }

    /// The variant the scheduler chose for this send, or "default".
    var variant: String { Self.scalar(payload["variant"]) ?? "default" }

    /// The campaign definition's `delivery` settings (the claim returns them as `delivery`).
    var delivery: CampaignDelivery { CampaignDelivery(campaign["delivery"]) }

    /// The values a template can use for one send, flattened to dotted names:
    /// - `customer.*`: first_name, last_name, email, phone, locale, stage, persona, external_id, and
    ///   `customer.attributes.<name>` for each scalar attribute (first_name and last_name also come from attributes);
    /// - `campaign.key`, `campaign.name`;
    /// - `send.key`, and `send.unsubscribe_url` and `send.unsubscribe_mailto` when the send has its links signed
    ///   (`UnsubscribeLinks.needed`);
    /// - whatever the job's payload carries under `variables` (offer codes, product names...), as given.
    func values(links: UnsubscribeLinks?) -> [String: String] {
        var values: [String: String] = [:]
        for field in ["email", "phone", "locale", "stage", "persona", "external_id", "timezone"] {
            if let value = customer.fields[field] { values["customer.\(field)"] = value }
        }
        for (name, value) in customer.attributes {
            values["customer.attributes.\(name)"] = value
            if name == "first_name" || name == "last_name" { values["customer.\(name)"] = value }
        }
        if let key = campaignKey { values["campaign.key"] = key }
        if let name = Self.scalar(campaign["name"]) { values["campaign.name"] = name }
        values["send.key"] = job.idempotencyKey
        links?.add(to: &values)
        if case .object(let variables)? = payload["variables"] {
            for (name, raw) in variables { if let value = Self.scalar(raw) { values[name] = value } }
        }
        return values
    }

    /// A JSON object's members; empty when the text is no JSON object.
    static func object(_ value: JSONB?) -> [String: JSONValue] {
        // Decoded as an object outright: as a JSONValue it would first be tried as a string, which throws.
        guard let value, let object = try? JSONDecoder().decode([String: JSONValue].self, from: Data(value.text.utf8))
        else { return [:] }
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
