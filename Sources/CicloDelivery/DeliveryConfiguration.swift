import CicloChannels
import Foundation

/// What the channel handler needs beyond the job: where links point, how links are signed, sender defaults, the
/// provider endpoints, and a transport per channel. Built by the executable from its environment.
public struct DeliveryConfiguration: Sendable {
    /// The base of the reporter's links: unsubscribe (`<base>/u/<token>`), click (`/c/`) and open pixel (`/o/`).
    public var publicBaseURL: String
    /// Whether email HTML gets click-tracked links and an open pixel (on by default).
    public var tracksEmail: Bool
    /// The HMAC secret that signs link tokens; the reporter verifies with the same secret.
    public var tokenSecret: String
    /// The mailbox for mailto unsubscribes (List-Unsubscribe), e.g. `unsubscribe@example.com`.
    public var unsubscribeMailbox: String?
    /// The From address when a campaign names none.
    public var defaultFrom: String
    public var messageIDDomain: String?
    public var smsSender: String
    /// The calling code for national phone numbers, e.g. "351".
    public var smsDefaultCountryCode: String?
    public var smsPolicy: SMSPolicy
    public var smsGateway: SMSGateway?
    public var pushGateway: PushGateway?
    public var webhook: WebhookEndpoint?

    public init(
        publicBaseURL: String, tokenSecret: String, unsubscribeMailbox: String? = nil, defaultFrom: String,
        messageIDDomain: String? = nil, smsSender: String = "Ciclo", smsDefaultCountryCode: String? = nil,
        smsPolicy: SMSPolicy = SMSPolicy(), smsGateway: SMSGateway? = nil, pushGateway: PushGateway? = nil,
        webhook: WebhookEndpoint? = nil, tracksEmail: Bool = true
    ) {
        self.tracksEmail = tracksEmail
        self.publicBaseURL = publicBaseURL
        self.tokenSecret = tokenSecret
        self.unsubscribeMailbox = unsubscribeMailbox
        self.defaultFrom = defaultFrom
        self.messageIDDomain = messageIDDomain
        self.smsSender = smsSender
        self.smsDefaultCountryCode = smsDefaultCountryCode
        self.smsPolicy = smsPolicy
        self.smsGateway = smsGateway
        self.pushGateway = pushGateway
        self.webhook = webhook
    }
}

/// The transport for each channel. A channel without one is not served: its jobs fail as permanent.
public struct DeliveryTransports: Sendable {
    public var email: (any EmailTransport)?
    public var sms: (any HTTPTransport)?
    public var push: (any HTTPTransport)?
    public var webhook: (any HTTPTransport)?

    public init(email: (any EmailTransport)? = nil, sms: (any HTTPTransport)? = nil, push: (any HTTPTransport)? = nil,
                webhook: (any HTTPTransport)? = nil) {
        self.email = email
        self.sms = sms
        self.push = push
        self.webhook = webhook
    }
}

/// Per-campaign delivery settings, from the campaign definition's `delivery` object; anything absent or of the
/// wrong type falls back to the worker's configuration.
struct CampaignDelivery: Sendable {
    struct Email: Sendable {
        var from: String?
        var replyTo: String?
    }
    struct SMS: Sendable {
        var from: String?
        var maxSegments: Int?
        var transliterate: Bool?
    }
    var email = Email()
    var sms = SMS()

    init(_ delivery: JSONValue?) {
        guard case .object(let delivery)? = delivery else { return }
        if case .object(let email)? = delivery["email"] {
            self.email = Email(from: Self.string(email["from"]), replyTo: Self.string(email["reply_to"]))
        }
        if case .object(let sms)? = delivery["sms"] {
            var maxSegments: Int? = nil
            if case .integer(let value)? = sms["max_segments"] { maxSegments = Int(value) }
            var transliterate: Bool? = nil
            if case .bool(let value)? = sms["transliterate"] { transliterate = value }
            self.sms = SMS(from: Self.string(sms["from"]), maxSegments: maxSegments, transliterate: transliterate)
        }
    }

    private static func string(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }
}
