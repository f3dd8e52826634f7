import CLibPQ
import Foundation

/// How to reach PostgreSQL. Built by the executable from its environment; the library reads no environment itself
/// (libpq still reads its own `PG*` variables when `connectionString` is nil).
public struct PostgresConfiguration: Sendable {
    /// A `postgresql://` URI or a `key=value` conninfo string; nil means libpq's defaults and `PG*` environment.
    public var connectionString: String?
    /// Shown in `pg_stat_activity`, so an operator can tell a worker from the scheduler.
    public var applicationName: String
    public var connectTimeout: Duration
    /// TCP keepalives notice a dead peer (a crashed server, a cut network) that would otherwise hang a read forever.
    public var keepalivesIdle: Duration
    public var keepalivesInterval: Duration
    public var keepalivesCount: Int

    public init(
        connectionString: String? = nil,
        applicationName: String = "ciclo",
        connectTimeout: Duration = .seconds(5),
        keepalivesIdle: Duration = .seconds(30),
        keepalivesInterval: Duration = .seconds(10),
        keepalivesCount: Int = 3
    ) {
        self.connectionString = connectionString
        self.applicationName = applicationName
        self.connectTimeout = connectTimeout
        self.keepalivesIdle = keepalivesIdle
        self.keepalivesInterval = keepalivesInterval
        self.keepalivesCount = keepalivesCount
    }

    /// Keyword/value pairs for `PQconnectdbParams`. Ours come first and the user's string last, so that anything the
    /// user spells out in the URL (a longer timeout, their own application_name) wins: libpq keeps the last value.
    func parameters() -> [(String, String)] {
        var pairs: [(String, String)] = [
            ("application_name", applicationName),
            ("connect_timeout", String(max(1, connectTimeout.components.seconds))),
            ("keepalives", "1"),
            ("keepalives_idle", String(max(1, keepalivesIdle.components.seconds))),
            ("keepalives_interval", String(max(1, keepalivesInterval.components.seconds))),
            ("keepalives_count", String(keepalivesCount)),
            ("client_encoding", "UTF8"),
        ]
        if let connectionString, !connectionString.isEmpty { pairs.append(("dbname", connectionString)) }
        return pairs
    }

    /// Checks that `connectionString` parses, without connecting; the error names what libpq could not read.
    public func validate() throws {
        _ = try parsedOptions()
    }

    /// Where this configuration points, with no password: `user@host:port/dbname`.
    public func redactedTarget() -> String {
        guard let options = try? parsedOptions() else { return "(invalid connection string)" }
        let host = options["host"] ?? options["hostaddr"] ?? "(default host)"
        let port = options["port"].map { ":\($0)" } ?? ""
        let user = options["user"].map { "\($0)@" } ?? ""
        let db = options["dbname"].map { "/\($0)" } ?? ""
        return "\(user)\(host)\(port)\(db)"
    }

    private func parsedOptions() throws -> [String: String] {
        guard let connectionString, !connectionString.isEmpty else { return [:] }
        var errorMessage: UnsafeMutablePointer<CChar>? = nil
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            let message = errorMessage.map { String(cString: $0) } ?? "out of memory"
            if let errorMessage { PQfreemem(errorMessage) }
            throw PostgresError(
                code: .connectionFailed,
                message: "the connection string is not valid: \(redactingPassword(in: message.trimmingNewlines))")
        }
        defer { PQconninfoFree(options) }
        var result: [String: String] = [:]
        var cursor = options
        while let keyword = cursor.pointee.keyword {
            if let value = cursor.pointee.val { result[String(cString: keyword)] = String(cString: value) }
            cursor += 1
        }
        return result
    }
}

extension String {
    /// libpq messages end in a newline and sometimes span lines; a log line or an error sentence wants one line.
    var trimmingNewlines: String {
        split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: "; ")
    }
}

extension PostgresConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Never the connection string itself: it may hold a password, and configurations end up in logs and dumps.
    public var description: String {
        "PostgresConfiguration(target: \(redactedTarget()), applicationName: \(applicationName))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["target": redactedTarget(), "applicationName": applicationName])
    }
}
