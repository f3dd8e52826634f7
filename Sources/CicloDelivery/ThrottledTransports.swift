import CicloChannels
import Logging
import Postgres

/// A transport that takes a token from its provider's shared limit before each send. A send that gets none within
/// the throttle's wait is not attempted: it is reported throttled and goes back to the queue uncounted.
struct ThrottledEmailTransport: EmailTransport {
    let inner: any EmailTransport
    let throttle: ProviderThrottle

    func send(_ email: EmailEnvelope) async -> TransportResult {
        await throttle.guarding { await inner.send(email) }
    }
}

struct ThrottledHTTPTransport: HTTPTransport {
    let inner: any HTTPTransport
    let throttle: ProviderThrottle

    func send(_ request: HTTPMessage) async -> TransportResult {
        await throttle.guarding { await inner.send(request) }
    }
}

extension ProviderThrottle {
    /// Runs `send` once a token is granted; without one in time, sends nothing and reports the throttle.
    func guarding(_ send: () async -> TransportResult) async -> TransportResult {
        switch await acquire() {
        case .go: return await send()
        case .throttled(let retryAfter):
            return .throttled(message: "the \(provider) provider's rate limit granted no send in time", retryAfter: retryAfter)
        }
    }
}

extension DeliveryTransports {
    /// Every transport behind its channel's shared rate limit (`provider_limits`; a channel without one is not
    /// limited). The throttles share `connection`: they take tokens a tenth of a second's worth at a time.
    public func throttled(connection: PostgresConnection, logger: Logger) -> DeliveryTransports {
        func throttle(_ channel: String) -> ProviderThrottle {
            ProviderThrottle(provider: channel, connection: connection, logger: logger)
        }
        return DeliveryTransports(
            email: email.map { ThrottledEmailTransport(inner: $0, throttle: throttle("email")) },
            sms: sms.map { ThrottledHTTPTransport(inner: $0, throttle: throttle("sms")) },
            push: push.map { ThrottledHTTPTransport(inner: $0, throttle: throttle("push")) },
            webhook: webhook.map { ThrottledHTTPTransport(inner: $0, throttle: throttle("webhook")) })
    }
}
