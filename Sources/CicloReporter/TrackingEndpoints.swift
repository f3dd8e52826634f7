import CicloChannels
import Foundation
import Hummingbird
import Logging

/// `GET /o/{token}` (open pixel), `GET /c/{token}` (click redirect) and `GET|POST /u/{token}` (unsubscribe).
/// Each checks the token's signature and purpose before anything else: a forged or edited token gets 400 and
/// nothing is recorded from it. The click redirect goes only to the URL signed inside the token.
struct TrackingEndpoints: Sendable {
    let configuration: ReporterConfiguration
    /// The token secret, keyed once for every request rather than per token checked.
    let tokenKey: KeyedHMAC
    let pool: ConnectionPool
    let metrics: ReporterMetrics
    let logger: Logger
    let store = TrackingStore()

    init(configuration: ReporterConfiguration, pool: ConnectionPool, metrics: ReporterMetrics, logger: Logger) {
        self.configuration = configuration
        self.tokenKey = KeyedHMAC(secret: configuration.tokenSecret)
        self.pool = pool
        self.metrics = metrics
        self.logger = logger
    }

    func register(on router: Router<BasicRequestContext>) {
        router.get("/o/:token") { request, context in try await open(request, context) }
        router.head("/o/:token") { request, context in try await open(request, context) }
        router.get("/c/:token") { request, context in try await click(request, context) }
        router.head("/c/:token") { request, context in try await click(request, context) }
        router.get("/u/:token") { request, context in try await unsubscribePage(request, context) }
        router.post("/u/:token") { request, context in try await unsubscribe(request, context) }
    }

    /// The token's claims, or nil (counted) when it is forged, edited, malformed or made for another purpose.
    func claims(_ context: BasicRequestContext, purpose: String, route: String) -> SignedToken.Claims? {
        guard let token = context.parameters.get("token"),
              let claims = try? SignedToken.verify(token, purpose: purpose, key: tokenKey)
        else {
            metrics.rejectedToken(route: route)
            return nil
        }
        return claims
    }

    func open(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let claims = claims(context, purpose: "o", route: "/o/{token}") else {
            return Replies.text(.badRequest, "This tracking link is not valid.")
        }
        let agent = request.headers[.userAgent]
        let reason = configuration.machineRules.classify(
            .open, method: request.method.rawValue, userAgent: agent, sinceDelivery: nil)
        try await pool.withConnection { conn in
            try await store.record(
                .init(key: claims.key, customer: claims.customer, kind: "open", channel: claims.channel,
                      machine: reason != nil, data: Self.data(agent: agent, reason: reason)),
                on: conn)
        }
        metrics.response(kind: "open", machine: reason != nil)
        return Response(
            status: .ok,
            headers: [.contentType: "image/gif", .cacheControl: "no-store, no-cache, must-revalidate, private"],
            body: .init(byteBuffer: ByteBuffer(bytes: Replies.pixel)))
    }

    func click(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let claims = claims(context, purpose: "c", route: "/c/{token}") else {
            return Replies.text(.badRequest, "This link is not valid.")
        }
        // Only http(s) with a host: a signed token is ours, but a redirect to javascript: or data: never is.
        guard let target = claims.url, let url = URL(string: target), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", url.host?.isEmpty == false
        else {
            metrics.rejectedToken(route: "/c/{token}")
            return Replies.text(.badRequest, "This link does not lead to a web address.")
        }
        let agent = request.headers[.userAgent]
        try await pool.withConnection { conn in
            let since = try await store.sinceDelivery(key: claims.key, on: conn)
            let reason = configuration.machineRules.classify(
                .click, method: request.method.rawValue, userAgent: agent, sinceDelivery: since)
            var data = Self.data(agent: agent, reason: reason)
            data["url"] = target
            try await store.record(
                .init(key: claims.key, customer: claims.customer, kind: "click", channel: claims.channel,
                      machine: reason != nil, data: data),
                on: conn)
            metrics.response(kind: "click", machine: reason != nil)
        }
        // The parsed form: characters a header may not carry come out percent-encoded.
        return Response(status: .found, headers: [.location: url.absoluteString, .cacheControl: "no-store"])
    }

    func unsubscribePage(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let claims = claims(context, purpose: "u", route: "/u/{token}") else {
            return Replies.html(.badRequest, UnsubscribePage.invalid())
        }
        return Replies.html(.ok, UnsubscribePage.confirm(channel: claims.channel))
    }

    func unsubscribe(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let claims = claims(context, purpose: "u", route: "/u/{token}") else {
            return Replies.html(.badRequest, UnsubscribePage.invalid())
        }
        let body = try await request.body.collect(upTo: 64 * 1024)
        guard UnsubscribePage.isOneClick(body: Data(buffer: body), contentType: request.headers[.contentType]) else {
            return Replies.text(.badRequest, "The body must be List-Unsubscribe=One-Click (RFC 8058).")
        }
        let recorded = try await pool.withConnection { conn in
            try await store.unsubscribe(claims, method: "one-click", on: conn)
        }
        if recorded { metrics.response(kind: "unsubscribe", machine: false) }
        logger.info("unsubscribed", metadata: ["customer": "\(claims.customer)", "channel": "\(claims.channel)"])
        return Replies.html(.ok, UnsubscribePage.done(channel: claims.channel))
    }

    /// What is kept with an open or click: the user agent (cut short) and why it was taken for a machine's.
    static func data(agent: String?, reason: MachineRules.Reason?) -> [String: String] {
        var data: [String: String] = [:]
        if let agent, !agent.isEmpty { data["user_agent"] = String(agent.prefix(300)) }
        if let reason { data["machine_reason"] = reason.rawValue }
        return data
    }
}
