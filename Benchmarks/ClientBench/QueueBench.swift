import ArgumentParser
import CicloQueue
import CicloSchema
import Foundation
import Postgres

/// `ciclo-bench queue`: the send queue's drain, pickup latency and enqueue rate, beside the same claim-and-complete
/// SQL run by pgbench with no client logic, and a plain INSERT ... SELECT.
struct QueueBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Queue drain (1 to 4 worker processes), pickup latency and enqueue, beside pgbench on the same SQL.")

    @Option(help: "Jobs enqueued in advance for each drain run.") var jobs = 200_000
    @Option(parsing: .upToNextOption, help: "Worker process counts for the drain.") var workers: [Int] = [1, 2, 3, 4]
    @Option(help: "Worker --concurrency.") var concurrency = 64
    @Option(help: "Worker --batch, and the batch of the pgbench reference.") var batch = 64
    @Option(help: "Single jobs timed for pickup latency.") var latencySamples = 400
    @Option(help: "Seconds any one run may take before it is stopped.") var timeLimit = 300
    @Option(help: "The ciclo executable (default: beside ciclo-bench).") var ciclo: String?

    func validate() throws {
        guard (1_000...5_000_000).contains(jobs) else { throw ValidationError("--jobs must be 1,000 to 5,000,000") }
        guard workers.allSatisfy({ (1...16).contains($0) }) else { throw ValidationError("--workers must be 1 to 16") }
        guard (1...1000).contains(batch), (1...1000).contains(concurrency) else {
            throw ValidationError("--batch and --concurrency must be 1 to 1000")
        }
        guard (10...10_000).contains(latencySamples) else { throw ValidationError("--latency-samples must be 10 to 10,000") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let target = try BenchTarget(environment: environment)
        try await ExternalTools.withTools(target: target, environment: environment, grace: .seconds(timeLimit)) { tools in
            let cicloPath = try cicloExecutable(ciclo)

            let started = ContinuousClock.now
            var table = ResultTable()
            let header = try await target.withConnection("ciclo-bench-admin") { admin in
                let schema = MigrationLoader.locate(explicit: environment["CICLO_SCHEMA_DIR"], executable: cicloPath)
                _ = try await Migrator(connection: admin, logger: BenchTarget.logger)
                    .migrate(try MigrationLoader.load(from: schema))
                let setup = QueueSetup(admin: admin, customers: 10_000)
                try await setup.seedCustomers()
                let drain = QueueDrainFigure(
                    target: target, tools: tools, setup: setup, ciclo: cicloPath, jobs: jobs, concurrency: concurrency,
                    batch: batch, timeLimit: .seconds(timeLimit))
                try await drain.run(into: &table, workerCounts: workers)
                try await QueueLatencyFigure(target: target, setup: setup, samples: latencySamples)
                    .run(into: &table)
                try await QueueEnqueueFigure(target: target, setup: setup, jobs: jobs).run(into: &table)
                let version = try await admin.query("SHOW server_version").scalar(String.self)
                let fsync = try await admin.query("SHOW fsync").scalar(String.self)
                return "PostgreSQL \(version) (fsync=\(fsync))"
            }
            print("ciclo-bench queue: \(target.description), \(header), \(ProcessInfo.processInfo.activeProcessorCount) cores")
            print("drain: \(jobs) jobs enqueued in advance, null transport, worker --concurrency \(concurrency) --batch \(batch);")
            print("a job counts once its completion commits (deliveries.finished_at); ratio = ciclo / reference")
            print("")
            print(table.render())
            print("")
            print("Targets: drain at 0.60 of the pgbench ceiling or more; pickup p50 under 5 ms, p99 under 50 ms.")
            print("Note: this machine is shared and noisy; the ratios (both sides measured in this run on this server)")
            print("count more than the absolute figures. Total time \(ResultTable.format((ContinuousClock.now - started).seconds, decimals: 1)) s.")
        }
    }
}

/// Set-up shared by the queue figures: bench customers with consent, and resetting the queue between runs.
struct QueueSetup: Sendable {
    let admin: PostgresConnection
    let customers: Int

    func seedCustomers() async throws {
        try await admin.query("""
            INSERT INTO customers (external_id, email)
            SELECT 'qbench-' || g, 'q' || g || '@example.com' FROM generate_series(1, $1::int8) g
            ON CONFLICT (external_id) DO NOTHING
            """, [customers])
        try await admin.query("""
            INSERT INTO consents (customer_id, channel, granted)
            SELECT id, 'email', true FROM customers WHERE external_id LIKE 'qbench-%'
            ON CONFLICT DO NOTHING
            """)
    }

    /// Empties the queue and its history, then enqueues `jobs` due jobs with the set-based path the scheduler
    /// uses, and vacuums so every run starts from the same physical state.
    func reset(enqueue jobs: Int) async throws {
        try await admin.executeScript("TRUNCATE send_jobs, send_keys, deliveries")
        try await admin.query("""
            WITH keys AS (
                INSERT INTO send_keys (idempotency_key)
                SELECT 'drain-' || g FROM generate_series(1, $1::int8) g
                RETURNING idempotency_key
            )
            INSERT INTO send_jobs (idempotency_key, customer_id, channel)
            SELECT k.idempotency_key, c.id, 'email'
            FROM keys k
            JOIN customers c ON c.external_id = 'qbench-' || (1 + substr(k.idempotency_key, 7)::int8 % $2::int8)
            """, [jobs, customers])
        // One statement per call: VACUUM refuses to run in the implicit transaction of a multi-statement script.
        for statement in ["VACUUM ANALYZE send_jobs", "VACUUM ANALYZE send_keys", "VACUUM ANALYZE deliveries", "CHECKPOINT"] {
            try await admin.executeScript(statement)
        }
    }

    /// Completed deliveries and the seconds from `start` to the last completion's commit time.
    func drained(since start: PostgresTimestamp) async throws -> (count: Int, seconds: Double) {
        let row = try await admin.query("""
            SELECT count(*)::int8, count(DISTINCT idempotency_key)::int8,
                   extract(epoch FROM max(finished_at) - $1::timestamptz)::float8
            FROM deliveries WHERE outcome = 'sent'
            """, [start]).single()
        let count: Int = try row.decode(at: 0)
        guard try row.decode(Int.self, at: 1) == count else { throw BenchError("a job was delivered twice") }
        return (count, try row.decode(Double?.self, at: 2) ?? 0)
    }

    func now() async throws -> PostgresTimestamp {
        try await admin.query("SELECT clock_timestamp()").scalar(PostgresTimestamp.self)
    }
}
