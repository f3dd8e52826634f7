import ArgumentParser
import CicloMaintenance
import Foundation
import Logging
import Postgres

/// `ciclo maintenance`: partitions ahead, retention behind. Meant for a daily timer.
struct MaintenanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maintenance",
        abstract: "Create the coming months' partitions and drop the months older than the retention.",
        discussion: """
            deliveries, responses and events are partitioned by UTC month. This creates the partitions for the
            current month and --months-ahead months after it (moving rows that already sit in a table's DEFAULT
            partition for those months), drops every monthly partition that ended more than the retention ago,
            and deletes DEFAULT-partition rows older than that. The retention is the stored setting
            (settings 'raw_retention'), unless --retention-days overrides it; without either nothing is dropped.
            Rollups are never touched. Safe to run at any time and more than once: concurrent runs wait for each
            other. Exit status 64 for bad flags, 75 when a table stayed locked, 78 for a bad stored setting or an
            unmigrated database.
            """)

    @Option(help: "Keep partitions ready for this many months after the current one (0-60).")
    var monthsAhead = 3
    @Option(help: "Drop data older than this many days (1-36500), overriding the stored setting for this run.")
    var retentionDays: Int?
    @Flag(help: "Store --retention-days as the setting later runs use.")
    var storeRetention = false
    @Flag(help: "Print what would be done, and change nothing.")
    var dryRun = false

    var options: MaintenanceOptions {
        MaintenanceOptions(
            monthsAhead: monthsAhead, retentionDays: retentionDays, storeRetention: storeRetention, dryRun: dryRun)
    }

    func validate() throws {
        do {
            try options.validate()
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        try await UserError.reporting {
            let environment = CicloEnvironment()
            try environment.bootstrapLogging()
            let conn = try await PostgresConnection.connect(
                configuration: try environment.database(applicationName: "ciclo-maintenance"),
                logger: Logger(label: "ciclo.maintenance"))
            let report: MaintenanceReport
            do {
                report = try await PartitionMaintenance(options: options).run(on: conn)
            } catch let error as MaintenanceError {
                let status: Int32 = switch error.code {
                case .badOption: 64  // EX_USAGE
                case .lockTimeout: 75  // EX_TEMPFAIL
                case .badSetting, .notPartitioned: 78  // EX_CONFIG
                }
                throw UserError(description: error.description + ".", exitCode: status)
            }
            print(report.lines.joined(separator: "\n"))
        }
    }
}
