import ArgumentParser
import CicloReports
import Logging
import ServiceLifecycle

struct AggregateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregate",
        abstract: "Fold new deliveries, responses, conversions and holdouts into the report rollups.",
        discussion: """
            Incremental and exactly once: each chunk and its cursor move commit together under a row lock, so a
            killed process loses only its open chunk and any number of aggregators can run at once. `ciclo reporter`
            runs the same fold; this command is for operators and tests.
            """)

    @Flag(help: "Fold everything committed before it started, then exit.") var once = false
    @Option(help: "With --once: seconds to wait for transactions older than the start to end (exit 75 after).")
    var wait = 300.0
    @Option(help: "Seconds between passes once caught up.") var interval = 5.0
    @Option(help: "Raw rows per chunk transaction.") var chunk = 50_000

    func validate() throws {
        guard interval > 0 else { throw ValidationError("--interval must be positive") }
        guard wait >= 0 else { throw ValidationError("--wait must not be negative") }
        guard chunk > 0, chunk <= 10_000_000 else { throw ValidationError("--chunk must be between 1 and 10000000") }
    }

    func run() async throws {
        try await UserError.reporting {
            let environment = CicloEnvironment()
            try environment.bootstrapLogging()
            let logger = Logger(label: "ciclo.aggregate")
            let service = AggregatorService(
                configuration: .init(
                    interval: .milliseconds(Int64(interval * 1000)), chunk: chunk, once: once,
                    wait: .milliseconds(Int64(wait * 1000))),
                database: try environment.database(applicationName: "ciclo-aggregate"), logger: logger)
            let group = ServiceGroup(
                configuration: .init(
                    services: [
                        .init(service: SecondSignalExit()),
                        .init(service: service, successTerminationBehavior: .gracefullyShutdownGroup),
                    ],
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            do {
                try await group.run()
            } catch let error as Aggregator.Blocked {
                throw UserError(
                    description: error.description.prefix(1).uppercased()
                        + error.description.dropFirst() + ".", exitCode: 75)  // EX_TEMPFAIL
            }
        }
    }
}
