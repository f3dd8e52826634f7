import ArgumentParser
import CicloImport

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Manage events.", subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store events from a JSON Lines file, each once.",
            discussion: """
                One object per line: {"customer": "<external_id>", "kind": "purchase", "payload": {...}, \
                "time": "2026-03-01T09:30:00Z", "id": "optional source event id"}. Without an id, one is derived \
                from the customer, kind, time and payload, so importing the same file again stores nothing twice. \
                An unknown customer is a rejected line.
                Exit status: 0 all lines stored, 65 some lines rejected (the rest stored), 66 the file cannot be read.
                """)

        @OptionGroup var file: ImportFileOptions

        func run() async throws {
            try await UserError.reporting {
                try await file.run("events", options: ImportOptions()) { options, conn in
                    try await EventImporter(options: options).run(path: file.file, on: conn)
                }
            }
        }
    }
}
