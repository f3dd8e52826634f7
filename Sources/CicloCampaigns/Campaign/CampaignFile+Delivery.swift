import CicloChannels

/// The `delivery` section, which stays in campaigns.definition as written and which workers read (CicloDelivery's
/// CampaignDelivery): checked here with the keys and types that code accepts, since a worker silently falls back
/// to its defaults on anything else.
enum DeliveryReader {
    static func validate(_ node: ConfigNode?, channel: Campaign.Channel) throws(ConfigError) {
        guard let node else { return }
        let map = try node.mapping(allowing: ["email", "sms"])
        for (name, section) in map.entries where name != channel.rawValue && !section.isNull {
            throw section.error("this is a \(channel.rawValue) campaign; its \(name) settings would never be read")
        }
        if let email = map["email"] {
            let settings = try email.mapping(allowing: ["from", "reply_to"])
            for key in ["from", "reply_to"] {
                guard let value = settings[key] else { continue }
                let text = try value.string()
                do throws(EmailError) {
                    _ = try EmailAddress(text)
                } catch {
                    throw value.error("\"\(text)\" is not a usable email address: \(error)")
                }
            }
        }
        if let sms = map["sms"] {
            let settings = try sms.mapping(allowing: ["from", "max_segments", "transliterate"])
            _ = try settings["from"]?.name()
            if let node = settings["max_segments"], try node.int() < 1 { throw node.error("must be 1 or more") }
            _ = try settings["transliterate"]?.bool()
        }
    }
}
