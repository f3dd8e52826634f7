import Foundation

/// What the reporter needs: where to listen, the secrets it checks, and the thresholds of its rules. Built by the
/// executable from flags and the environment; this module reads neither.
public struct ReporterConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (the log line `reporter listening` says which).
    public var port: Int
    /// The HMAC secret the worker signs link tokens with (the same `CICLO_TOKEN_SECRET`).
    public var tokenSecret: String
    /// The bearer token `POST /events` requires; nil turns event ingestion off (503).
    public var eventsToken: String?
    /// Each provider's webhook signing secret, by the name in `/webhooks/{provider}`.
    public var providerSecrets: [String: String]
    /// How far a webhook's signed time `t` may be from now, either way, before it is refused as a replay.
    public var signatureTolerance: Duration
    public var softBounces: SoftBouncePolicy
    public var machineRules: MachineRules
    /// Database connections the endpoints share.
    public var connections: Int

    public init(
        host: String = "127.0.0.1", port: Int = 8080, tokenSecret: String, eventsToken: String? = nil,
        providerSecrets: [String: String] = [:], signatureTolerance: Duration = .seconds(300),
        softBounces: SoftBouncePolicy = .init(), machineRules: MachineRules = .init(), connections: Int = 4
    ) {
        self.host = host
        self.port = port
        self.tokenSecret = tokenSecret
        self.eventsToken = eventsToken
        self.providerSecrets = providerSecrets
        self.signatureTolerance = signatureTolerance
        self.softBounces = softBounces
        self.machineRules = machineRules
        self.connections = connections
    }
}

/// When soft bounces suppress a channel: `limit` of them within `window`, with no delivery reported since the
/// earliest of them (by the provider's own times, so a late `delivered` of an older send resets nothing).
public struct SoftBouncePolicy: Sendable {
    public var limit: Int
    public var window: Duration

    public init(limit: Int = 3, window: Duration = .seconds(30 * 86_400)) {
        self.limit = limit
        self.window = window
    }
}

/// Provider names are path segments and environment variable names: lower-case letters, digits, `-` and `_`.
public enum ProviderName {
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 40
            && name.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D || $0 == 0x5F }
    }
}
