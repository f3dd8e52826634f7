import Logging
import Postgres
import ServiceLifecycle

/// How the aggregation service runs.
public struct AggregatorConfiguration: Sendable {
    /// Time between passes once a pass has caught up.
    public var interval: Duration
    /// Raw rows per chunk transaction.
    public var chunk: Int
    /// Fold everything committed before the start, then return.
    public var once: Bool
    /// With `once`: how long to wait for transactions older than the start to end.
    public var wait: Duration

    public init(
        interval: Duration = .seconds(5), chunk: Int = 50_000, once: Bool = false,
        wait: Duration = .seconds(300)
    ) {
        self.interval = interval
        self.chunk = chunk
        self.once = once
        self.wait = wait
    }
}

/// The fold as a ServiceLifecycle service: a pass every `interval` until graceful shutdown. `ciclo aggregate` runs
/// it alone; `ciclo reporter` runs it beside the HTTP side. Any number may run: the cursor locks take turns.
public struct AggregatorService: Service {
    let configuration: AggregatorConfiguration
    let database: PostgresConfiguration
    let logger: Logger

    public init(configuration: AggregatorConfiguration, database: PostgresConfiguration, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.logger = logger
    }

    public func run() async throws {
        let conn = try await PostgresConnection.connect(configuration: database, logger: logger)
        do {
            try await run(on: conn)
        } catch {
            await conn.close()
            throw error
        }
        await conn.close()
    }

    private func run(on conn: PostgresConnection) async throws {
        let aggregator = Aggregator(chunk: configuration.chunk, logger: logger)
        if configuration.once {
            let pass = try await aggregator.catchUp(timeout: configuration.wait, on: conn)
            log(pass)
            return
        }
        // A signal cancels the loop; a chunk cut short rolls back whole and the next process starts there.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    log(try await aggregator.pass(on: conn))
                } catch is CancellationError {
                    return
                } catch let error as PostgresError where error.code == .queryCanceled && Task.isCancelled {
                    return
                } catch {
                    // A failed chunk rolled back whole; the next pass starts from the same cursor.
                    logger.error("aggregation pass failed: \(String(reflecting: error))")
                }
                try await Task.sleep(for: configuration.interval)
            }
        }
    }

    private func log(_ pass: Aggregator.Pass) {
        var metadata: Logger.Metadata = ["chunks": "\(pass.chunks)", "pending_resolved": "\(pass.resolvedPending)"]
        for (source, count) in pass.folded { metadata[source.rawValue] = "\(count)" }
        logger.info(pass.total > 0 ? "folded outcomes" : "nothing new to fold", metadata: metadata)
    }
}
