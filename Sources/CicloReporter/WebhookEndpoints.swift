import CicloChannels
import Foundation
import Hummingbird
import Logging

/// `POST /webhooks/{provider}`: delivery outcomes from a provider, in Ciclo's generic format (`ProviderEvent`),
/// signed the way Ciclo signs its own webhooks (`X-Ciclo-Timestamp`, `X-Ciclo-Signature: sha256=<hex HMAC-SHA256
/// of "<timestamp>.<body>">`) with the provider's own secret.
///
/// A bad signature (401) or a malformed body (400, naming the first bad event, whatever its kind) stores nothing.
/// Otherwise each event is stored once; a well-formed event of a kind Ciclo does not know is skipped and listed in
/// `skipped` (its 1-based index and type) without failing the rest; an event whose send is not known (yet) is not
/// stored and the answer is 404 naming it, so the provider retries: the events it already delivered come back as
/// duplicates and are acknowledged without being stored again.
struct WebhookEndpoints: Sendable {
    let configuration: ReporterConfiguration
    let pool: ConnectionPool
    let metrics: ReporterMetrics
    let logger: Logger

    static let maxBody = 1 << 20

    struct Answer: Encodable {
        var stored = 0
        var duplicates = 0
        var unmatched: [String] = []
        var skipped: [ProviderEvent.Skipped] = []
        var error: String?
    }

    func register(on router: Router<BasicRequestContext>) {
        router.post("/webhooks/:provider") { request, context in try await receive(request, context) }
    }

    func receive(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let provider = context.parameters.get("provider"), ProviderName.isValid(provider),
              let secret = configuration.providerSecrets[provider]
        else {
            return Replies.error(.notFound, "No webhook provider of that name is configured.")
        }
        let body = Data(try await request.body.collect(upTo: Self.maxBody).readableBytesView)
        do throws(WebhookError) {
            try WebhookSignature.verify(
                body: body, timestamp: Self.header(request, WebhookSignature.timestampHeader),
                signature: Self.header(request, WebhookSignature.signatureHeader), secret: secret, now: Date(),
                tolerance: configuration.signatureTolerance)
        } catch {
            metrics.webhook(provider: provider, result: "refused")
            logger.notice("webhook refused", metadata: ["provider": "\(provider)", "why": "\(error.code)"])
            return Replies.error(.unauthorized, error.message)
        }
        let batch: ProviderEvent.Batch
        do {
            batch = try ProviderEvent.parse(body)
        } catch {
            metrics.webhook(provider: provider, result: "refused")
            return Replies.error(.badRequest, error.description)
        }
        let store = WebhookStore(softBounces: configuration.softBounces)
        var answer = Answer(skipped: batch.skipped)
        try await pool.withConnection { conn in
            for event in batch.events {
                switch try await store.store(event, provider: provider, on: conn) {
                case .stored:
                    answer.stored += 1
                    metrics.response(kind: event.type, machine: false)
                case .duplicate: answer.duplicates += 1
                case .unmatched: answer.unmatched.append(event.id)
                }
            }
        }
        metrics.webhook(provider: provider, result: "stored", count: answer.stored)
        metrics.webhook(provider: provider, result: "duplicate", count: answer.duplicates)
        metrics.webhook(provider: provider, result: "unmatched", count: answer.unmatched.count)
        metrics.webhook(provider: provider, result: "skipped", count: answer.skipped.count)
        if !answer.skipped.isEmpty {
            logger.info("webhook events of unknown kinds skipped", metadata: [
                "provider": "\(provider)", "types": "\(Set(answer.skipped.map { $0.type.prefix(40) }).sorted())",
            ])
        }
        guard answer.unmatched.isEmpty else {
            answer.error = "no send matches event(s) \(answer.unmatched.joined(separator: ", ")); retry later"
            return Replies.json(.notFound, answer)
        }
        return Replies.json(.ok, answer)
    }

    static func header(_ request: Request, _ name: String) -> String? {
        request.headers.first { $0.name.canonicalName == name.lowercased() }?.value
    }
}
