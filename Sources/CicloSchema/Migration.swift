import Foundation

/// One numbered SQL file from `schema/`, e.g. `0003_send_queue.sql`.
public struct Migration: Sendable, Hashable {
    public var version: Int
    public var name: String
    public var sql: String
    /// The file name, for messages.
    public var fileName: String

    /// Files that must run outside a transaction (`CREATE INDEX CONCURRENTLY`) start with this line.
    public static let noTransactionMarker = "-- ciclo:no-transaction"

    public var runsInTransaction: Bool { !sql.hasPrefix(Self.noTransactionMarker) }

    public init(version: Int, name: String, sql: String, fileName: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.fileName = fileName
    }
}

/// Reading migrations from a directory, with errors that name the offending file.
public enum MigrationLoader {
    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Every `NNNN_name.sql` file in `directory`, ordered by version. Any other `.sql` file, a repeated version
    /// or a file that is not UTF-8 is an error: a migration silently skipped is worse than one refused.
    public static func load(from directory: URL) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw LoadError(description: "The migrations directory \(directory.path) cannot be read; set --schema-dir or CICLO_SCHEMA_DIR to the project's schema/ folder.")
        }
        var migrations: [Migration] = []
        var seen: [Int: String] = [:]
        for fileName in names.sorted() where fileName.hasSuffix(".sql") {
            guard let (version, name) = parse(fileName) else {
                throw LoadError(description: "The migration file \(fileName) is not named NNNN_name.sql (digits, an underscore, then lowercase letters, digits or underscores); rename it.")
            }
            if let other = seen[version] {
                throw LoadError(description: "The migration files \(other) and \(fileName) share version \(version); give one of them a new number.")
            }
            seen[version] = fileName
            let data = try Data(contentsOf: directory.appendingPathComponent(fileName))
            guard let sql = String(data: data, encoding: .utf8) else {
                throw LoadError(description: "The migration file \(fileName) is not valid UTF-8; save it as UTF-8.")
            }
            migrations.append(Migration(version: version, name: name, sql: sql, fileName: fileName))
        }
        return migrations.sorted { $0.version < $1.version }
    }

    static func parse(_ fileName: String) -> (Int, String)? {
        let stem = fileName.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_") else { return nil }
        let digits = stem[..<underscore]
        let name = stem[stem.index(after: underscore)...]
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let version = Int(digits),
              !name.isEmpty,
              name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
        else { return nil }
        return (version, String(name))
    }

    /// Finds `schema/`: an explicit path first, then the working directory, then beside the executable (a build
    /// inside the repository, or an installation under `share/ciclo/schema`).
    public static func locate(explicit: String?, executable: String = CommandLine.arguments[0]) -> URL {
        if let explicit, !explicit.isEmpty { return URL(fileURLWithPath: explicit) }
        let exe = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("schema"),
            exe.appendingPathComponent("../../../schema"),  // .build/<triple>/<config>/ciclo
            exe.appendingPathComponent("../../schema"),  // .build/<config>/ciclo
            exe.appendingPathComponent("../share/ciclo/schema"),  // an installed layout
        ]
        for candidate in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), isDirectory.boolValue {
                return candidate.standardizedFileURL
            }
        }
        return candidates[0]
    }
}
