import ArgumentParser
import CicloBench
import CicloSchema
import Foundation
import Logging
import Postgres
import ServiceLifecycle

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Load generators for side-by-side runs with other PostgreSQL queues.",
        subcommands: [Steady.self])

    struct Steady: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Produce and consume at a steady load, printing metric samples as JSON Lines until SIGTERM.",
            discussion: """
                Configured by the environment, as a benchmark harness sets it:
                  DATABASE_URL        the bench database (required); migrated at start
                  PRODUCER_MODE       fixed (default) or depth-target
                  PRODUCER_RATE       jobs/s in fixed mode (required unless paced by
                                      stdin or by PRODUCER_RATE_CONTROL_FILE)
                  PRODUCER_RATE_CONTROL_FILE
                                      a file holding the rate, re-read every tick
                  PRODUCER_PACING     adapter (default: self-paced, stdin ignored) or
                                      harness (n jobs per `ENQUEUE <n>` stdin line)
                  TARGET_DEPTH        due plus running jobs to keep (depth-target)
                  WORKER_COUNT        in-process workers, 8 jobs at once each
                  JOB_PAYLOAD_BYTES   payload size (default 256)
                  JOB_WORK_MS         time each job pretends to work (default 1)
                  SAMPLE_EVERY_S      seconds between samples, on wall-clock
                                      multiples (default 5)
                  BENCH_INSTANCE_ID   tells concurrent bench processes apart (default 0)
                  CICLO_SCHEMA_DIR    the schema/ folder, if not beside the executable
                stdout: a descriptor line, then per sample one line per metric
                (claim_p50_ms, claim_p95_ms, claim_p99_ms, enqueue_rate,
                completion_rate, queue_depth). Logs go to stderr. Bad configuration
                exits 78 with nothing on stdout.
                """)

        func run() async throws {
            try await UserError.reporting {
                let environment = CicloEnvironment()
                // Everything is checked before anything connects, so a bad setting costs no database work.
                let configuration = try SteadySettings(environment.values).configuration(version: BuildInfo.version)
                try environment.bootstrapLogging()
                let logger = Logger(label: "ciclo.bench")
                let group = ServiceGroup(
                    configuration: .init(
                        services: [.init(service: SteadyService(configuration: configuration, logger: logger))],
                        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
            }
        }
    }
}

/// The bench as one service. A harness wants an exit 0 within 5 s of SIGTERM whatever the database is doing, so
/// the first signal also arms a deadline: a drain still running at 4.5 s (a worker retrying its last record
/// against a server that is gone) is abandoned, and the leases of the jobs it held return them. Further signals
/// change nothing; timeout(1), for one, sends SIGTERM twice.
struct SteadyService: Service {
    static let exitDeadline = 4.5

    let configuration: SteadyConfiguration
    let logger: Logger

    func run() async throws {
        let bench = SteadyBench(configuration: configuration, logger: logger)
        let logger = self.logger
        try await withGracefulShutdownHandler {
            try await bench.run()
        } onGracefulShutdown: {
            bench.requestStop()
            let deadline = Thread {
                Thread.sleep(forTimeInterval: Self.exitDeadline)
                logger.warning("the drain did not finish in time; exiting, and leases return the jobs still held")
                exit(0)
            }
            deadline.name = "bench-exit-deadline"
            deadline.start()
        }
    }
}

/// The bench's environment variables, read and checked in one place.
struct SteadySettings {
    let values: [String: String]

    init(_ values: [String: String]) {
        self.values = values
    }

    func configuration(version: String) throws -> SteadyConfiguration {
        guard let url = string("DATABASE_URL") else {
            throw UserError.configuration("DATABASE_URL is not set; set it to the bench database's PostgreSQL URL")
        }
        let database = PostgresConfiguration(connectionString: url, applicationName: "ciclo-bench")
        do {
            try database.validate()
        } catch let error as PostgresError {
            throw UserError.configuration("DATABASE_URL is not valid: \(error.message)")
        }
        let pacing: SteadyConfiguration.Pacing
        switch string("PRODUCER_PACING") ?? "adapter" {
        case "adapter": pacing = .clock
        case "harness": pacing = .harness
        case let other:
            throw UserError.configuration("PRODUCER_PACING is \"\(other)\"; use adapter or harness")
        }
        let rateFile = string("PRODUCER_RATE_CONTROL_FILE")
        let rate = try number("PRODUCER_RATE", Double.init, "a number of jobs per second") { $0 >= 0 && $0.isFinite }
        let mode: SteadyConfiguration.Mode
        switch string("PRODUCER_MODE") ?? "fixed" {
        case "fixed":
            // The harness's stdin or the control file supply the rate; otherwise it must be given.
            guard rate != nil || pacing == .harness || rateFile != nil else {
                throw UserError.configuration("PRODUCER_RATE is not set; set it to the jobs per second to produce")
            }
            mode = .fixed(rate: rate ?? 0)
        case "depth-target":
            guard let depth = try number("TARGET_DEPTH", Int.init, "a whole number of jobs", { $0 >= 0 }) else {
                throw UserError.configuration(
                    "PRODUCER_MODE is depth-target but TARGET_DEPTH is not set; set it to the queue depth to keep")
            }
            mode = .depthTarget(depth: depth)
        case let other:
            throw UserError.configuration("PRODUCER_MODE is \"\(other)\"; use fixed or depth-target")
        }
        guard let workers = try number("WORKER_COUNT", Int.init, "a whole number of workers", { $0 >= 1 }) else {
            throw UserError.configuration("WORKER_COUNT is not set; set it to the number of in-process workers")
        }
        let payload = try number("JOB_PAYLOAD_BYTES", Int.init, "a whole number of bytes") { $0 >= 0 } ?? 256
        let workMs = try number("JOB_WORK_MS", Double.init, "a number of milliseconds") { $0 >= 0 && $0 < 3.6e6 } ?? 1
        let sampleRange = 0.01...86400.0
        let every = try number("SAMPLE_EVERY_S", Double.init, "a positive number of seconds", sampleRange.contains) ?? 5
        let instance = try number("BENCH_INSTANCE_ID", Int.init, "a whole number") { $0 >= 0 } ?? 0
        return SteadyConfiguration(
            database: database, schemaDirectory: MigrationLoader.locate(explicit: string("CICLO_SCHEMA_DIR")),
            version: version, pacing: pacing, mode: mode, rateControlFile: rateFile, workerCount: workers,
            payloadBytes: payload, work: .microseconds(Int64((workMs * 1000).rounded())), sampleEvery: every,
            instanceID: instance)
    }

    /// The variable's value; an empty one counts as unset, as shells and compose files often leave them.
    private func string(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    private func number<T>(_ name: String, _ parse: (String) -> T?, _ what: String, _ valid: (T) -> Bool)
        throws -> T?
    {
        guard let text = string(name) else { return nil }
        guard let value = parse(text), valid(value) else {
            throw UserError.configuration("\(name) is \"\(text)\"; set it to \(what)")
        }
        return value
    }
}
