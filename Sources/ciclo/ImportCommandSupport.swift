import ArgumentParser
import CicloImport
import Foundation
import Logging
import Postgres

/// Flags shared by `ciclo customers import` and `ciclo events import`.
struct ImportFileOptions: ParsableArguments {
    @Argument(help: "The file to import.") var file: String
    @Option(help: "Write every rejected row to this file as `line<TAB>reason`.") var rejects: String?
    @Flag(help: "No progress lines on stderr.") var quiet = false

    /// Connects, runs the import, prints the summary (stdout) and the first rejected rows (stderr), and exits 65
    /// when some rows were rejected (the good ones are stored all the same).
    func run(
        _ name: String, options: ImportOptions,
        _ body: @Sendable (ImportOptions, PostgresConnection) async throws -> ImportReport
    ) async throws {
        let environment = CicloEnvironment()
        try environment.bootstrapLogging()
        var options = options
        options.rejectsFile = rejects.map { URL(fileURLWithPath: $0) }
        if !quiet {
            options.progress = { progress in
                let rate = Int(progress.rowsPerSecond.rounded())
                let text =
                    progress.phase == .reading
                    ? "\(name): \(progress.rows) rows read (\(rate) rows/s)"
                    : "\(name): \(progress.rows) rows read; applying them"
                FileHandle.standardError.write(Data((text + "\n").utf8))
            }
        }
        let conn = try await PostgresConnection.connect(
            configuration: try environment.database(applicationName: "ciclo-import"),
            logger: Logger(label: "ciclo.import"))
        let report = try await body(options, conn)
        await conn.close()
        print(report.summary)
        guard report.rejected > 0 else { return }
        var lines = report.firstRejects.map { "\(file) line \($0.line): \($0.reason)" }
        if report.rejected > report.firstRejects.count {
            let more = report.rejected - report.firstRejects.count
            lines.append(
                "... and \(more) more rejected row(s)"
                    + (rejects.map { "; all are in \($0)" } ?? "; --rejects FILE lists them all"))
        }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        throw ExitCode(65)  // EX_DATAERR: some rows were bad, the good ones are stored
    }
}

extension ImportFormat: ExpressibleByArgument {}
