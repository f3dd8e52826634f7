import Foundation
import Logging
import Postgres

/// The server under test, as our client and as pgbench/psql reach it.
///
/// The URL comes from CICLO_DATABASE_URL (a `postgresql://` URI or a `key=value` conninfo string); unset means
/// libpq's defaults and PG* variables, which the child tools inherit as well. Pieces the URL does not name are
/// left out of the tools' arguments, so they fall back to the same PG* variables our client's libpq reads.
struct BenchTarget: Sendable {
    var connectionString: String?
    var host: String?
    var port: String?
    var user: String?
    var database: String?
    var password: String?

    /// swift-log's no-op handler: the benchmark prints its own table and must not time log output.
    static let logger = Logger(label: "ciclo-bench", factory: { _ in SwiftLogNoOpLogHandler() })

    init(environment: [String: String]) throws {
        let url = environment["CICLO_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        connectionString = url
        guard let url else { return }
        var options: [String: String] = [:]
        if url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") {
            guard let components = URLComponents(string: url) else {
                throw BenchError("CICLO_DATABASE_URL is not a valid URI")
            }
            options["host"] = components.host.flatMap { $0.isEmpty ? nil : $0 }
            options["port"] = components.port.map(String.init)
            options["user"] = components.user
            options["password"] = components.password
            let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
            if !path.isEmpty { options["dbname"] = path }
            for item in components.queryItems ?? [] {
                if let value = item.value { options[item.name] = value }
            }
        } else {
            // key=value conninfo; quoted values with spaces are not supported here.
            for pair in url.split(whereSeparator: \.isWhitespace) {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { throw BenchError("CICLO_DATABASE_URL is neither a URI nor key=value pairs") }
                options[String(parts[0])] = String(parts[1]).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
            }
        }
        host = options["host"] ?? options["hostaddr"]
        port = options["port"]
        user = options["user"]
        database = options["dbname"]
        password = options["password"]
    }

    /// The redacted target, for the header.
    var description: String {
        "\(user.map { "\($0)@" } ?? "")\(host ?? "(PGHOST)"):\(port ?? "(PGPORT)")/\(database ?? "(PGDATABASE)")"
    }

    /// -h/-p/-U for pgbench and psql. The database goes separately: pgbench takes it as its last argument
    /// (its -d means --debug), psql as -d.
    var toolArguments: [String] {
        var arguments: [String] = []
        if let host { arguments += ["-h", host] }
        if let port { arguments += ["-p", port] }
        if let user { arguments += ["-U", user] }
        return arguments
    }

    /// The environment for the tools: ours, plus the password from the URL so it never shows in `ps`.
    var toolEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if let password { environment["PGPASSWORD"] = password }
        return environment
    }

    func connect(_ applicationName: String) async throws -> PostgresConnection {
        let configuration = PostgresConfiguration(connectionString: connectionString, applicationName: applicationName)
        return try await PostgresConnection.connect(configuration: configuration, logger: Self.logger)
    }

    /// Runs `body` on a connection of its own and closes it afterwards, whatever happens.
    func withConnection<T>(_ applicationName: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await connect(applicationName)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }
}

/// A benchmark failure with one sentence for the operator.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Helpers on the admin connection: set-up and the checks that make two runs comparable.
extension PostgresConnection {
    /// Flushes dirty pages before a timed run so that neither side pays for the other's checkpoint.
    func settle() async {
        _ = try? await executeScript("CHECKPOINT")
    }

    /// The next transaction id the server will assign. Every transaction that writes takes one, so the difference
    /// across a run counts the write transactions that ran (committed or not), without assigning one itself.
    func nextTransactionID() async throws -> Int {
        try await query("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint").scalar(Int.self)
    }

    /// Rows in a table the benchmark created (the name is a generated constant, never input).
    func rowCount(_ table: String) async throws -> Int {
        try await query("SELECT count(*) FROM \(table)").scalar(Int.self)
    }
}

/// Monotonic time helpers.
extension Duration {
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}

/// The `ciclo` executable a benchmark runs as a child process: `--ciclo` when given, else the one built beside
/// ciclo-bench.
func cicloExecutable(_ explicit: String?) throws -> String {
    let path = explicit ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("ciclo").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw BenchError("the ciclo executable is not at \(path); build it or pass --ciclo")
    }
    return path
}
