/// Provider endpoints print without their secrets. Configurations end up in logs (swift-service-lifecycle logs the
/// whole service at debug level, handler and configuration included), so a shared secret prints as `***` and extra
/// headers, which carry API keys (`Authorization`), by name only. Reflection (`dump`) shows the same.
extension WebhookEndpoint: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "WebhookEndpoint(url: \(url), secret: ***, headers: \(headers.redactedNames))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["url": url, "secret": "***", "headers": headers.redactedNames])
    }
}

extension SMSGateway: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "SMSGateway(url: \(url), headers: \(headers.redactedNames))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["url": url, "headers": headers.redactedNames]) }
}

extension PushGateway: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "PushGateway(url: \(url), headers: \(headers.redactedNames), maxPayloadBytes: \(maxPayloadBytes))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["url": url, "headers": headers.redactedNames, "maxPayloadBytes": maxPayloadBytes])
    }
}

extension [HTTPHeader] {
    /// `[Authorization: ***, X-Account: ***]`: which headers are set, never what they hold.
    public var redactedNames: String { "[" + map { "\($0.name): ***" }.joined(separator: ", ") + "]" }
}
