import Foundation
import Hummingbird
import Logging
import Postgres
import ServiceLifecycle

/// Routes another module mounts beside the reporter's own (the dashboard's pages), sharing its database
/// connections, its metrics middleware and its lifecycle.
public protocol ReporterRoutes: Sendable {
    func register(on router: Router<BasicRequestContext>, database: ConnectionPool)
}

/// `ciclo reporter`'s HTTP side as a service: the tracking endpoints, provider webhooks, event ingestion,
/// `/metrics` and `/healthz`, on Hummingbird. On graceful shutdown (SIGTERM) it stops accepting connections, lets
/// the requests in flight finish, and closes its database connections.
public struct Reporter: Service {
    let configuration: ReporterConfiguration
    let database: PostgresConfiguration
    let metrics: ReporterMetrics
    let routes: [any ReporterRoutes]
    let logger: Logger

    public init(
        configuration: ReporterConfiguration, database: PostgresConfiguration, metrics: ReporterMetrics = .init(),
        routes: [any ReporterRoutes] = [], logger: Logger
    ) {
        self.routes = routes
        self.configuration = configuration
        self.database = database
        self.metrics = metrics
        self.logger = logger
    }

    public func run() async throws {
        let pool = try await ConnectionPool(size: configuration.connections, configuration: database, logger: logger)
        let router = Router()
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        TrackingEndpoints(configuration: configuration, pool: pool, metrics: metrics, logger: logger)
            .register(on: router)
        WebhookEndpoints(configuration: configuration, pool: pool, metrics: metrics, logger: logger)
            .register(on: router)
        EventEndpoints(configuration: configuration, pool: pool, logger: logger).register(on: router)
        for extra in routes { extra.register(on: router, database: pool) }
        router.get("/healthz") { _, _ in await Self.health(pool) }
        router.get("/metrics") { [metrics] _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        let logger = self.logger
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                 serverName: "ciclo-reporter"),
            onServerRunning: { channel in
                logger.info("reporter listening", metadata: [
                    "host": "\(channel.localAddress?.ipAddress ?? "?")", "port": "\(channel.localAddress?.port ?? 0)",
                ])
            },
            logger: logger)
        do {
            try await app.run()
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
        logger.info("reporter stopped")
    }

    /// 200 when the database answers, 503 with the reason otherwise. A lost connection reconnects on the next
    /// check; connecting is bounded by the connect timeout.
    static func health(_ pool: ConnectionPool) async -> Response {
        do {
            _ = try await pool.withConnection { conn in try await conn.query("SELECT 1") }
            return Replies.text(.ok, "ok")
        } catch {
            return Replies.text(.serviceUnavailable, "The database does not answer.")
        }
    }
}
