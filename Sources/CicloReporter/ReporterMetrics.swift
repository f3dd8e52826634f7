import Hummingbird
import Metrics
import Prometheus

/// The reporter's metrics, through swift-metrics into a Prometheus registry of its own that `GET /metrics` renders:
///
/// - `ciclo_reporter_requests_total{route, status}`: every request, by route template (`/o/{token}`...) and status;
/// - `ciclo_reporter_responses_total{kind, machine}`: responses recorded, by kind, machine ones apart;
/// - `ciclo_reporter_rejected_tokens_total{route}`: forged, edited or malformed link tokens;
/// - `ciclo_reporter_webhooks_total{provider, result}`: provider events stored, duplicate, unmatched,
///   skipped (an unknown kind) or refused.
public struct ReporterMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    public init() {
        registry = PrometheusCollectorRegistry()
        factory = PrometheusMetricsFactory(registry: registry)
    }

    func request(route: String, status: Int) {
        Counter(label: "ciclo_reporter_requests_total", dimensions: [("route", route), ("status", String(status))],
                factory: factory).increment()
    }

    func response(kind: String, machine: Bool) {
        Counter(label: "ciclo_reporter_responses_total", dimensions: [("kind", kind), ("machine", String(machine))],
                factory: factory).increment()
    }

    func rejectedToken(route: String) {
        Counter(label: "ciclo_reporter_rejected_tokens_total", dimensions: [("route", route)], factory: factory)
            .increment()
    }

    func webhook(provider: String, result: String, count: Int = 1) {
        Counter(label: "ciclo_reporter_webhooks_total", dimensions: [("provider", provider), ("result", result)],
                factory: factory).increment(by: count)
    }

    /// The Prometheus text exposition of every metric.
    func exposition() -> [UInt8] { registry.emitToBuffer() }
}

/// Counts every request by its route template and final status, errors included.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ReporterMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            let response = try await next(request, context)
            metrics.request(route: context.endpointPath ?? "unmatched", status: response.status.code)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.request(route: context.endpointPath ?? "unmatched", status: status)
            throw error
        }
    }
}
