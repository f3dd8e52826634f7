import ArgumentParser

/// `ciclo`: one executable whose subcommands start each process and serve operators.
@main
struct Ciclo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ciclo",
        abstract: "Ciclo, a lifecycle campaign engine on PostgreSQL.",
        discussion: """
            Configuration comes from the environment:
              CICLO_DATABASE_URL        PostgreSQL URI or conninfo (unset: libpq's PG* variables)
              CICLO_DATABASE_URL_FILE   a file holding the URL, for secrets kept out of the environment
              CICLO_LOG_LEVEL           trace, debug, info (default), notice, warning, error or critical
            """,
        version: BuildInfo.version,
        subcommands: [
            Migrate.self, ConfigCommand.self, CustomersCommand.self, EventsCommand.self, SegmentCommand.self,
            CampaignCommand.self, PreviewCommand.self, SchedulerCommand.self, SimulateCommand.self, WhyCommand.self,
            WorkerCommand.self, ReporterCommand.self, UnsubscribeMailCommand.self, QueueCommand.self, RetryCommand.self, DiscardCommand.self,
            AggregateCommand.self, ReportCommand.self, MaintenanceCommand.self, BenchCommand.self, Version.self,
        ]
    )
}

enum BuildInfo {
    static let version = "0.1.0"
}
