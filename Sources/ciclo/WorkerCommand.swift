import ArgumentParser
import CicloDelivery
import CicloQueue
import CicloWorker
import Foundation
import Logging
import Postgres
import ServiceLifecycle
import UnixSignals

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Claim due sends, deliver them and record the outcomes, until SIGTERM or SIGINT.",
        discussion: """
            On the first SIGTERM or SIGINT the worker stops claiming, lets the jobs in flight finish within
            --shutdown-timeout, releases the rest without counting the attempt, and exits 0. Keep the timeout
            shorter than your supervisor's stop timeout. A second signal exits at once; the leases of the jobs it
            held expire and the reaper returns them.
            """)

    @Option(help: "Jobs processed at once.") var concurrency = 16
    @Option(help: "Most jobs claimed by one statement.") var batch = 32
    @Option(help: "Only these channels, comma-separated (e.g. email,sms).") var channels: String?
    @Option(help: "Only this campaign (key or id).") var campaign: String?
    @Option(help: "Lease length in seconds; heartbeats renew it every third.") var lease = 60.0
    @Option(help: "Seconds the jobs in flight get to finish after a shutdown signal.") var shutdownTimeout = 20.0
    @Flag(help: "Exit once nothing is due.") var drain = false
    @Option(help: "Delivery: `live` (SMTP and provider HTTP APIs from the environment), `file` (render every message into --outbox), or `null` (render nothing, report success; for benchmarks).")
    var transport = "live"
    @Option(help: "With --transport file: the folder messages are written to, one subfolder per channel.")
    var outbox = ".ciclo/outbox"
    @Option(help: "With the null transport: milliseconds each job pretends to work.") var workMs = 0

    func validate() throws {
        guard concurrency > 0 else { throw ValidationError("--concurrency must be at least 1") }
        guard batch > 0 else { throw ValidationError("--batch must be at least 1") }
        guard lease >= 1 else { throw ValidationError("--lease must be at least 1 second") }
        guard shutdownTimeout >= 0 else { throw ValidationError("--shutdown-timeout cannot be negative") }
        guard ["live", "file", "null"].contains(transport) else {
            throw ValidationError("--transport \(transport) is unknown; use live, file or null")
        }
    }

    func run() async throws {
        try await UserError.reporting {
            let environment = CicloEnvironment()
            try environment.bootstrapLogging()
            let logger = Logger(label: "ciclo.worker")
            let database = try environment.database(applicationName: "ciclo-worker")
            let campaignID = try await resolveCampaign(campaign, database: database, logger: logger)
            let configuration = WorkerConfiguration(
                concurrency: concurrency, batchSize: batch,
                channels: channels.map { $0.split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces)) } },
                campaignID: campaignID, lease: .milliseconds(Int64(lease * 1000)),
                shutdownTimeout: .milliseconds(Int64(shutdownTimeout * 1000)), drain: drain)
            let worker = Worker(
                configuration: configuration, database: database,
                handler: try await handler(environment, database: database, logger: logger), logger: logger)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: SecondSignalExit()), .init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }
}

extension WorkerCommand {
    /// The job handler --transport names: the channel handler over live or file transports, or the null one.
    func handler(_ environment: CicloEnvironment, database: PostgresConfiguration, logger: Logger) async throws
        -> any JobHandler
    {
        if transport == "null" { return NullTransport(work: .milliseconds(workMs)) }
        let configured = try environment.deliveryConfiguration()
        let delivery = transport == "file" ? try environment.forOutbox(configured) : configured
        var lookupDatabase = database
        lookupDatabase.applicationName = "ciclo-worker-templates"
        // Template loads and the providers' rate limits share one connection: both are occasional round trips.
        let lookups = try await PostgresConnection.connect(configuration: lookupDatabase, logger: logger)
        let transports = transport == "file"
            ? environment.fileTransports(outbox: URL(fileURLWithPath: outbox), logger: logger)
            : try environment.liveTransports(logger: logger).throttled(connection: lookups, logger: logger)
        return ChannelHandler(
            configuration: delivery, transports: transports, templates: TemplateStore(connection: lookups), logger: logger)
    }
}

/// Resolves a campaign key or id to its id, with an error that names a campaign that does not exist.
func resolveCampaign(_ campaign: String?, database: PostgresConfiguration, logger: Logger) async throws -> Int64? {
    guard let campaign else { return nil }
    let conn = try await PostgresConnection.connect(configuration: database, logger: logger)
    defer { Task { await conn.close() } }
    let rows = try await conn.query("SELECT id FROM campaigns WHERE key = $1 OR id::text = $1 LIMIT 1", [campaign])
    guard let row = rows.first else {
        throw UserError(description: "There is no campaign \"\(campaign)\"; `ciclo campaign list` shows them.", exitCode: 1)
    }
    return try row.decode(Int64.self, at: 0)
}

/// Exits at once on the second SIGTERM or SIGINT, while the first one's graceful shutdown is still running.
struct SecondSignalExit: Service {
    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        var seen = 0
        for await _ in signals.cancelOnGracefulShutdown() {
            seen += 1
            if seen >= 2 {
                FileHandle.standardError.write(Data("ciclo: second signal, exiting now; leases return held jobs\n".utf8))
                exit(130)
            }
        }
    }
}
