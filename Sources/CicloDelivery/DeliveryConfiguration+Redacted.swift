/// The delivery configuration prints without the token secret: it signs every tracking and unsubscribe link, and
/// configurations end up in debug logs (swift-service-lifecycle logs the whole worker service, handler included).
/// The provider endpoints print their own redacted forms.
extension DeliveryConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "DeliveryConfiguration(publicBaseURL: \(publicBaseURL), tokenSecret: ***, defaultFrom: \(defaultFrom), "
            + "smsGateway: \(smsGateway.map(String.init(describing:)) ?? "nil"), "
            + "pushGateway: \(pushGateway.map(String.init(describing:)) ?? "nil"), "
            + "webhook: \(webhook.map(String.init(describing:)) ?? "nil"))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: [
            "publicBaseURL": publicBaseURL, "tokenSecret": "***", "defaultFrom": defaultFrom,
            "smsGateway": smsGateway as Any, "pushGateway": pushGateway as Any, "webhook": webhook as Any,
        ])
    }
}
