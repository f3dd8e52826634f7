import ArgumentParser
import CicloCampaigns
import CicloScheduler
import Foundation
import Logging
import Postgres

/// `ciclo campaign ...`: campaigns as code.
struct CampaignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign", abstract: "Apply campaign files and manage stored campaigns.",
        subcommands: [Apply.self, List.self, Show.self, Pause.self, Resume.self, Archive.self, Launch.self, Run.self])

    /// Runs `body` with a campaign store on a fresh connection, reporting errors the CLI way.
    static func withStore(_ name: String, _ body: (CampaignStore) async throws -> Void) async throws {
        try await UserError.reporting {
            let environment = CicloEnvironment()
            try environment.bootstrapLogging()
            let conn = try await PostgresConnection.connect(
                configuration: try environment.database(applicationName: "ciclo-campaign-\(name)"),
                logger: Logger(label: "ciclo.campaign"))
            do {
                try await body(CampaignStore(connection: conn))
            } catch let problem as Launcher.Problem {
                throw UserError(problem)
            }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate campaign files (YAML or JSON) and store them, all or nothing.",
            discussion: """
                Every file is checked (fields, schedule, segments, templates) before anything is written; then all
                are applied in one transaction. Applying an unchanged file changes nothing. Changed template
                content gets a new template version; old versions are kept.
                """)

        @Argument(help: "Campaign files.") var files: [String]
        @Flag(help: "Check the files and say what would change, without writing.") var dryRun = false

        func run() async throws {
            try await CampaignCommand.withStore("apply") { store in
                var sources: [CampaignStore.Source] = []
                for file in files {
                    guard let data = FileManager.default.contents(atPath: file) else {
                        throw UserError(description: "Cannot read \(file).", exitCode: 66)
                    }
                    guard let text = String(data: data, encoding: .utf8) else {
                        throw UserError(description: "\(file) is not UTF-8 text.", exitCode: 65)
                    }
                    sources.append(CampaignStore.Source(text: text, file: file))
                }
                for applied in try await store.apply(sources, dryRun: dryRun) {
                    print(CampaignCommand.line(applied, dryRun: dryRun))
                }
            }
        }
    }

    static func line(_ applied: CampaignStore.Applied, dryRun: Bool) -> String {
        let verb: String
        switch applied.change {
        case .unchanged:
            return "unchanged \(applied.key) (\(applied.status.rawValue)): \(applied.file) is already applied"
        case .created: verb = dryRun ? "would create" : "created"
        case .updated: verb = dryRun ? "would update" : "updated"
        }
        let templates = applied.newTemplates.isEmpty
            ? "no template changed"
            : "templates "
                + applied.newTemplates.map { "\($0.variant)/\($0.locale) v\($0.version)" }.joined(separator: ", ")
        let next = applied.nextRunAt.map { "; next run \(timestamp($0))" } ?? ""
        return "\(verb) \(applied.key) (\(applied.status.rawValue)): \(templates)\(next)"
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List stored campaigns.")

        @Option(help: "Only campaigns with this status (draft, active, paused, archived).")
        var status: Campaign.Status?

        func run() async throws {
            try await CampaignCommand.withStore("list") { store in
                let campaigns = try await store.list(status: status)
                let rows = campaigns.map { campaign in
                    [campaign.key, campaign.kind, campaign.channel, campaign.status, String(campaign.priority),
                     campaign.nextRunAt.map(CampaignCommand.timestamp) ?? "-", campaign.name]
                }
                for line in TextTable.render(
                    header: ["KEY", "KIND", "CHANNEL", "STATUS", "PRIORITY", "NEXT RUN", "NAME"], rows: rows,
                    rightAligned: [4])
                {
                    print(line)
                }
                if campaigns.isEmpty { print("(no campaigns)") }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A campaign's definition, status, latest templates and decision counts.")

        @Argument(help: "The campaign's key.") var key: String

        func run() async throws {
            try await CampaignCommand.withStore("show") { store in
                for line in CampaignDescription.lines(try await store.show(key: key)) { print(line) }
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop running an active campaign.")
        @Argument(help: "The campaign's key.") var key: String

        func run() async throws {
            try await CampaignCommand.withStore("pause") { store in
                print("campaign \(key) is now \(try await store.pause(key: key).rawValue)")
            }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a paused (or draft) campaign; a recurring one continues from its next slot from now.")
        @Argument(help: "The campaign's key.") var key: String

        func run() async throws {
            try await CampaignCommand.withStore("resume") { store in
                print("campaign \(key) is now \(try await store.resume(key: key).rawValue)")
            }
        }
    }

    struct Archive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retire a campaign for good; its history stays, and it can never run again.")
        @Argument(help: "The campaign's key.") var key: String

        func run() async throws {
            try await CampaignCommand.withStore("archive") { store in
                print("campaign \(key) is now \(try await store.archive(key: key).rawValue)")
            }
        }
    }
}

extension CampaignCommand {
    struct Launch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Launch an ad hoc campaign now; the scheduler's leader enqueues it on its next tick.",
            discussion: "Sends still deferred (quiet hours) when the campaign expires are cancelled.")
        @Argument(help: "The campaign's key.") var key: String

        func run() async throws {
            try await CampaignCommand.withStore("launch") { store in
                let number = try await Launcher().launch(key: key, at: Date(), on: store.connection)
                print("campaign \(key) launched (launch \(number)); the scheduler enqueues it on its next tick")
            }
        }
    }
}

extension CampaignCommand {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a recurring cycle now, out of schedule; the scheduler's leader runs it on its next tick.",
            discussion: "Every rule holds as on a scheduled run (a customer in cooldown is not sent to again); "
                + "the schedule then continues from its next slot after now.")
        @Argument(help: "The campaign's key.") var key: String

        func run() async throws {
            try await CampaignCommand.withStore("run") { store in
                try await CycleRunner().runNow(key: key, at: Date(), on: store.connection)
                print("campaign \(key) runs a cycle on the scheduler's next tick")
            }
        }
    }
}

extension UserError {
    /// A launch or run the campaign's kind, status or end forbids (any campaign command): one sentence, exit 65.
    init(_ problem: Launcher.Problem) {
        let text = problem.description
        self.init(description: text.prefix(1).uppercased() + text.dropFirst() + ".", exitCode: 65)
    }
}

extension Campaign.Status: ExpressibleByArgument {}
