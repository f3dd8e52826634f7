import Foundation
import Logging
import Postgres

/// The one place that reads the process environment. Libraries get structs and a Logger.
struct CicloEnvironment {
    var values: [String: String] = ProcessInfo.processInfo.environment

    /// The database configuration for a process, named so it shows in `pg_stat_activity`.
    func database(applicationName: String) throws -> PostgresConfiguration {
        var url = values["CICLO_DATABASE_URL"]
        if let path = values["CICLO_DATABASE_URL_FILE"], !path.isEmpty {
            if url != nil {
                throw UserError.configuration("CICLO_DATABASE_URL and CICLO_DATABASE_URL_FILE are both set; keep one")
            }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw UserError.configuration("CICLO_DATABASE_URL_FILE names \(path), which cannot be read")
            }
            url = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let configuration = PostgresConfiguration(connectionString: url, applicationName: applicationName)
        do {
            try configuration.validate()
        } catch let error as PostgresError {
            throw UserError.configuration("CICLO_DATABASE_URL is not valid: \(error.message)")
        }
        return configuration
    }

    /// Sets up swift-log: one line per event on stderr, at the level CICLO_LOG_LEVEL names.
    func bootstrapLogging() throws {
        let name = values["CICLO_LOG_LEVEL"]?.lowercased() ?? "info"
        guard let level = Logger.Level(rawValue: name) else {
            throw UserError.configuration(
                "CICLO_LOG_LEVEL is \"\(name)\"; use one of trace, debug, info, notice, warning, error, critical")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
