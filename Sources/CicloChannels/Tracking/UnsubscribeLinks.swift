/// The links a send carries for unsubscribing, signed for the reporter: `unsubscribe_url` (`<base>/u/<token>`, which
/// the reporter's one-click endpoint takes) and, with a mailbox, `unsubscribe_mailto` (its subject carries the same
/// token). Templates read them as `send.unsubscribe_url` and `send.unsubscribe_mailto`; an email's
/// `List-Unsubscribe` carries both.
public enum UnsubscribeLinks {
    public static func make(
        baseURL: String, mailbox: String?, key: KeyedHMAC, idempotencyKey: String, customer: Int64, channel: String
    ) -> [String: String] {
        let token = SignedToken.sign(
            .init(key: idempotencyKey, customer: customer, channel: channel, purpose: "u"), key: key)
        var links = ["unsubscribe_url": baseURL + "/u/" + token]
        if let mailbox { links["unsubscribe_mailto"] = "mailto:" + mailbox + "?subject=unsubscribe%20" + token }
        return links
    }

    /// The template variables these links fill.
    public static let variables: Set<String> = ["send.unsubscribe_url", "send.unsubscribe_mailto"]

    /// Whether a send needs its links signed: an email always (its `List-Unsubscribe` header), other channels only
    /// when their template uses one. Signing is most of what rendering a short message costs.
    public static func needed(channel: String, template: MessageTemplate) -> Bool {
        channel == "email" || template.variables.contains { variables.contains($0.name) }
    }
}
