import ArgumentParser
import CicloDashboard
import CicloReporter
import CicloReports
import Foundation
import Logging
import ServiceLifecycle

struct ReporterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reporter",
        abstract: "Serve the tracking endpoints, webhooks, event ingestion, the dashboard and /metrics; fold the rollups.",
        discussion: """
            Secrets come from the environment (or a file named by the _FILE variable), never from flags:
              CICLO_TOKEN_SECRET[_FILE]            the secret the worker signs link tokens with (required)
              CICLO_EVENTS_TOKEN[_FILE]            bearer token for POST /events (unset: ingestion off)
              CICLO_PROVIDER_<NAME>_SECRET[_FILE]  signing secret of POST /webhooks/<name> (name in lower case)
            Tuning:
              CICLO_WEBHOOK_TOLERANCE              seconds a webhook's timestamp may be off (default 300)
              CICLO_SOFT_BOUNCE_LIMIT              soft bounces that suppress a channel (default 3)
              CICLO_SOFT_BOUNCE_DAYS               ... within this many days, with no delivery since (default 30)
              CICLO_SCANNER_CLICK_SECONDS          a click sooner than this after delivery is a scanner's (default 10)
              CICLO_REPORTER_CONNECTIONS           database connections (default 4)
            The dashboard is at / (the programme), /campaigns/<key> and /stages/<key>, with ?from=&to= days.
            Unless --no-aggregate, the process also folds new outcomes into the report rollups every
            --aggregate-interval seconds, as `ciclo aggregate` does (several reporters take turns safely).
            SIGTERM or SIGINT stops accepting, finishes the requests in flight and exits 0.
            """)

    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (0: any free port, named in the log).") var port = 8080
    @Flag(inversion: .prefixedNo, help: "Fold outcomes into the report rollups in this process.") var aggregate = true
    @Option(help: "Seconds between folds.") var aggregateInterval = 5.0

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard aggregateInterval > 0 else { throw ValidationError("--aggregate-interval must be positive") }
    }

    func run() async throws {
        try await UserError.reporting {
            let environment = CicloEnvironment()
            try environment.bootstrapLogging()
            let logger = Logger(label: "ciclo.reporter")
            let database = try environment.database(applicationName: "ciclo-reporter")
            let reporter = Reporter(
                configuration: try environment.reporterConfiguration(host: host, port: port),
                database: database, routes: [DashboardRoutes()], logger: logger)
            var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
                .init(service: SecondSignalExit()),
                .init(service: reporter, successTerminationBehavior: .gracefullyShutdownGroup),
            ]
            if aggregate {
                let folds = AggregatorService(
                    configuration: .init(interval: .milliseconds(Int64(aggregateInterval * 1000))),
                    database: database, logger: Logger(label: "ciclo.aggregate"))
                services.append(.init(service: folds, successTerminationBehavior: .gracefullyShutdownGroup))
            }
            let group = ServiceGroup(configuration: .init(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }
}

extension CicloEnvironment {
    func reporterConfiguration(host: String, port: Int) throws -> ReporterConfiguration {
        var providers: [String: String] = [:]
        for name in values.keys where name.hasPrefix("CICLO_PROVIDER_") {
            let rest = name.dropFirst("CICLO_PROVIDER_".count)
            guard let end = rest.range(of: "_SECRET_FILE", options: .backwards) ?? rest.range(of: "_SECRET", options: .backwards),
                  end.upperBound == rest.endIndex
            else { continue }
            let provider = rest[..<end.lowerBound].lowercased()
            guard ProviderName.isValid(provider) else {
                throw UserError.configuration("\(name) names a provider \"\(provider)\"; use letters, digits and _")
            }
            guard let secret = try secret("CICLO_PROVIDER_\(rest[..<end.lowerBound])_SECRET"), secret.utf8.count >= 16
            else {
                throw UserError.configuration("\(name) must hold a secret of at least 16 bytes")
            }
            providers[provider] = secret
        }
        return ReporterConfiguration(
            host: host, port: port, tokenSecret: try tokenSecret(), eventsToken: try secret("CICLO_EVENTS_TOKEN"),
            providerSecrets: providers,
            signatureTolerance: .seconds(try number("CICLO_WEBHOOK_TOLERANCE", default: 300, minimum: 1)),
            softBounces: SoftBouncePolicy(
                limit: try number("CICLO_SOFT_BOUNCE_LIMIT", default: 3, minimum: 1),
                window: .seconds(86_400 * (try number("CICLO_SOFT_BOUNCE_DAYS", default: 30, minimum: 1)))),
            machineRules: MachineRules(
                clickWindow: .seconds(try number("CICLO_SCANNER_CLICK_SECONDS", default: 10, minimum: 0))),
            connections: try number("CICLO_REPORTER_CONNECTIONS", default: 4, minimum: 1))
    }

    /// A whole number from the environment, or `default` when unset.
    func number(_ name: String, default value: Int, minimum: Int) throws -> Int {
        guard let text = values[name], !text.isEmpty else { return value }
        guard let number = Int(text), number >= minimum else {
            throw UserError.configuration("\(name) is \"\(text)\"; it must be a whole number of at least \(minimum)")
        }
        return number
    }
}
