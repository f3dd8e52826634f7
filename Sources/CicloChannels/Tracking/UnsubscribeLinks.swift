/// The links a send carries for unsubscribing, signed for the reporter: `url` (`<base>/u/<token>`, which the
/// reporter's one-click endpoint takes) and, with a mailbox, `mailto` (its subject carries the same token).
/// Templates read them as `send.unsubscribe_url` and `send.unsubscribe_mailto`; an email's `List-Unsubscribe`
/// carries both. The same signature gives the send's open pixel its token (`SignedToken.signPair`), which a
/// tracked email takes from here rather than signing again.
public struct UnsubscribeLinks: Sendable, Equatable {
    public var url: String
    public var mailto: String?
    /// The token of the send's open pixel (`<base>/o/<token>`).
    public var openToken: String

    /// The template variables these links fill.
    public static let urlVariable = "send.unsubscribe_url"
    public static let mailtoVariable = "send.unsubscribe_mailto"

    public init(
        baseURL: String, mailbox: String?, key: KeyedHMAC, idempotencyKey: String, customer: Int64, channel: String
    ) {
        let tokens = SignedToken.signPair(key: idempotencyKey, customer: customer, channel: channel, key: key)
        let token = tokens.unsubscribe
        openToken = tokens.open
        url = UTF8Text.concatenate(baseURL, "/u/", token)
        mailto = mailbox.map { UTF8Text.concatenate("mailto:", $0, "?subject=unsubscribe%20", token) }
    }

    /// Whether a send needs its links signed: an email always (its `List-Unsubscribe` header), other channels only
    /// when their template declares one. Signing is most of what rendering a short message costs.
    public static func needed(channel: String, template: MessageTemplate) -> Bool {
        channel == "email" || template.declaresUnsubscribeLinks
    }

    /// Adds the links to a send's template values.
    public func add(to values: inout [String: String]) {
        values[Self.urlVariable] = url
        if let mailto { values[Self.mailtoVariable] = mailto }
    }
}
