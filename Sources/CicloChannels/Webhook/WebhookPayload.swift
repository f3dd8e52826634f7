/// The body of a campaign webhook: the send's key, the customer's and campaign's identifiers, and the rendered parts.
public struct WebhookPayload: Sendable, Hashable, Encodable {
    public var key: String
    public var customer: String?
    public var campaign: String?
    public var message: [String: String]

    public init(key: String, customer: String?, campaign: String?, message: [String: String]) {
        self.key = key
        self.customer = customer
        self.campaign = campaign
        self.message = message
    }

    /// The JSON that `ChannelJSON.encode` gives (keys sorted, absent identifiers left out), written by hand: the
    /// encoder, and parsing its output again to check it, were most of the cost of a webhook.
    var json: [UInt8] {
        let capacity = message.reduce(64 + key.utf8.count) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 }
        var json = JSONText(capacity: capacity)
        json.beginObject()
        if let campaign { json.field("campaign", campaign) }
        if let customer { json.field("customer", customer) }
        json.field("key", key)
        json.key("message")
        json.appendObject(message)
        json.endObject()
        return json.bytes
    }
}
