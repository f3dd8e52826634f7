import CicloQueue
import CicloSchema
import CicloWorker
import Foundation
import Logging
import Postgres

/// `ciclo bench steady`: one long-running producer plus WORKER_COUNT in-process workers on one database, with a
/// descriptor line and then clock-aligned metric samples on stdout (JSON Lines), for side-by-side runs with
/// other PostgreSQL queues.
public final class SteadyBench: Sendable {
    let configuration: SteadyConfiguration
    let logger: Logger
    let emit: @Sendable (String) -> Void
    let latencies = LatencyWindow(seconds: Sampler.rollingWindowSeconds)
    let enqueued = Counter()
    let stopping = Flag()
    let workers: [Worker]

    /// The bench's customers. Fixed external ids make the set-up idempotent, and so safe for several instances
    /// or restarts on one database.
    static let seedCustomersSQL = """
        INSERT INTO customers (external_id, email)
        SELECT 'bench-' || g, 'bench-' || g || '@example.com' FROM generate_series(1, $1::int8) g
        ON CONFLICT (external_id) DO NOTHING
        """
    /// Every bench customer may be emailed, so the claim's consent check lets every job through.
    static let seedConsentsSQL = """
        INSERT INTO consents (customer_id, channel, granted, source)
        SELECT id, 'email', true, 'ciclo-bench' FROM customers
        WHERE external_id = ANY (ARRAY(SELECT 'bench-' || g FROM generate_series(1, $1::int8) g))
        ORDER BY id  -- instances starting together lock the rows in one order, so they cannot deadlock
        ON CONFLICT (customer_id, channel) DO UPDATE SET granted = true
        """
    static let customerIDsSQL = """
        SELECT id FROM customers
        WHERE external_id = ANY (ARRAY(SELECT 'bench-' || g FROM generate_series(1, $1::int8) g))
        ORDER BY id
        """

    /// A bench that has touched nothing yet; `run()` does the work. `emit` receives each stdout line.
    public init(
        configuration: SteadyConfiguration, logger: Logger,
        emit: @escaping @Sendable (String) -> Void = StandardOutput.writeLine
    ) {
        self.configuration = configuration
        self.logger = logger
        self.emit = emit
        var workerDatabase = configuration.database
        workerDatabase.applicationName += "-worker"
        let handler = ClaimLatencyHandler(latencies: latencies, work: configuration.work)
        self.workers = (0..<configuration.workerCount).map { _ in
            Worker(
                configuration: WorkerConfiguration(
                    concurrency: configuration.workerConcurrency, batchSize: configuration.workerBatch,
                    shutdownTimeout: configuration.shutdownTimeout),
                database: workerDatabase, handler: handler, logger: logger)
        }
    }

    /// Migrates the database (a harness hands over an empty one), creates the customer pool, writes the
    /// descriptor line, then produces, consumes and samples until `requestStop()`. Returns once the workers have
    /// drained (within their shutdown timeout) and released what they still held.
    public func run() async throws {
        let startedAt = Date()
        let migrations = try MigrationLoader.load(from: configuration.schemaDirectory)
        let setup = try await PostgresConnection.connect(configuration: configuration.database, logger: logger)
        let report = try await Migrator(connection: setup, logger: logger).migrate(migrations)
        logger.info(
            "schema ready",
            metadata: [
                "applied": "\(report.applied.count)", "already_applied": "\(report.alreadyApplied)",
            ])
        let pool = configuration.customerCount
        try await setup.query(Self.seedCustomersSQL, [pool])
        try await setup.query(Self.seedConsentsSQL, [pool])
        let customers = try await setup.query(Self.customerIDsSQL, [pool]).map { try $0.decode(Int64.self, at: 0) }
        let databaseName = try await setup.query("SELECT current_database()").scalar(String.self)
        let producer = Producer(
            configuration: configuration,
            jobs: JobFactory(
                instanceID: configuration.instanceID, runID: BenchTime.nowMicroseconds(), customers: customers,
                payloadBytes: configuration.payloadBytes),
            connection: try await PostgresConnection.connect(configuration: configuration.database, logger: logger),
            enqueued: enqueued, stopping: stopping, logger: logger)
        let workers = self.workers
        let enqueued = self.enqueued
        // Completions are the workers' own counters, which count a job once its outcome is recorded in the
        // database (moved to deliveries), not when the handler returns: a job whose record is lost is not done.
        let sampler = Sampler(
            every: configuration.sampleEvery, instanceID: configuration.instanceID, latencies: latencies,
            enqueued: { enqueued.current },
            completed: { workers.reduce(0) { total, worker in total + Self.finished(worker.counters) } },
            connection: setup, emit: emit, logger: logger)

        emit(
            JSONLine([
                "kind": .string("descriptor"), "system": .string("ciclo"),
                "instance_id": .int(configuration.instanceID),
                "version": .string(configuration.version), "db_name": .string(databaseName),
                "event_tables": .strings(SteadyConfiguration.eventTables), "extensions": .strings([]),
                "started_at": .string(BenchTime.iso8601(startedAt)),
            ]).text)
        logger.info(
            "bench steady started",
            metadata: [
                "workers": "\(configuration.workerCount)", "pacing": "\(configuration.pacing)",
                "mode": "\(configuration.mode)",
            ])
        try await withThrowingTaskGroup(of: Void.self) { background in
            background.addTask { await producer.run() }
            background.addTask { await sampler.run() }
            do {
                try await withThrowingTaskGroup(of: Void.self) { pool in
                    for worker in workers { pool.addTask { try await worker.run() } }
                    try await pool.waitForAll()
                }
            } catch {
                // A worker that could not start takes the run down, and the others must stop claiming first:
                // a worker's loops stop on its stop flag, not on cancellation.
                requestStop()
                background.cancelAll()
                throw error
            }
            // The producer has stopped or will at its next tick; the sampler runs until cancelled.
            background.cancelAll()
        }
        await producer.connection.close()
        await setup.close()
        logger.info("bench steady stopped")
    }

    /// Jobs a worker moved to deliveries: retried and failed attempts are not completions.
    static func finished(_ counters: JobLedger.Counters) -> Int {
        counters.sent + counters.suppressed + counters.cancelled
    }

    /// Stops producing and asks every worker to drain, as SIGTERM does.
    public func requestStop() {
        stopping.set()
        for worker in workers { worker.requestStop() }
    }
}
