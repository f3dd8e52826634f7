import ArgumentParser
import CicloImport

struct CustomersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customers", abstract: "Manage customers.", subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upsert customers from a CSV (with a header row) or JSON Lines file.",
            discussion: """
                Customers are matched by external_id. A field a row leaves empty (or null, or out) keeps its stored \
                value; attributes merge key by key; consent changes only for the channels a row names. Bad rows \
                are listed with their line and reason and the good rows are stored, all in one transaction. When \
                an external_id appears on several lines, the last one wins and the earlier ones are rejected.
                CSV columns: external_id, email, phone, push_token, locale, timezone, stage, persona, \
                product_preferences (a;b), last_seen_at (RFC 3339), attributes (a JSON object), attr.NAME, \
                consent.email|sms|push|webhook (true, false or empty).
                Exit status: 0 all rows stored, 65 some rows rejected (the rest stored) or the file is unusable, \
                66 the file cannot be read.
                """)

        @OptionGroup var file: ImportFileOptions
        @Option(help: "csv or jsonl (default: from the extension: .csv, .jsonl, .ndjson).") var format: ImportFormat?

        func run() async throws {
            try await UserError.reporting {
                try await file.run("customers", options: ImportOptions(format: format)) { options, conn in
                    try await CustomerImporter(options: options).run(path: file.file, on: conn)
                }
            }
        }
    }
}
