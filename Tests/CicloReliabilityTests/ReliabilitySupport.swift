import CicloTestSupport
import Foundation
import Testing

/// `make test-reliability`: every suite of this target is nested here, so they run one after another (each loads the
/// machine, and an open transaction in one would hold back another's fold) and only with CICLO_RELIABILITY=1:
/// `make test` builds them and skips them.
@Suite("Reliability", .serialized, .enabled(if: Reliability.enabled, "set CICLO_RELIABILITY=1 (make test-reliability)"))
struct ReliabilityTests {}

/// Settings from the environment, with the figures as defaults, and the results file each suite writes.
enum Reliability {
    static let enabled = ProcessInfo.processInfo.environment["CICLO_RELIABILITY"] == "1"

    /// An integer setting, `fallback` when unset; a value that does not read as a positive number stops the suite.
    static func setting(_ name: String, _ fallback: Int) throws -> Int {
        guard let text = ProcessInfo.processInfo.environment[name], !text.isEmpty else { return fallback }
        guard let value = Int(text), value > 0 else {
            throw SettingError(description: "\(name)=\(text) is not a positive whole number")
        }
        return value
    }

    struct SettingError: Error, CustomStringConvertible {
        var description: String
    }

    /// One suite's line of the summary table (`scripts/reliability-summary.py` prints them).
    struct Result: Codable {
        var suite: String
        /// What load it held, in words ("100,000 sends, 4 workers").
        var load: String
        /// Faults injected and survived (kills, restarts, held transactions).
        var faults: Int
        /// Inputs tried (fuzzed or hostile).
        var inputs: Int
        var lost: Int
        var corrupted: Int
        /// Figures worth keeping beside the table (throughputs, sizes, duplicates).
        var notes: [String]
    }

    /// Writes `result` to `$CICLO_RELIABILITY_RESULTS/<suite>.json` when that folder is set, and prints it either way.
    static func record(_ result: Result) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(result)
        print("reliability result: \(String(decoding: data, as: UTF8.self))")
        guard let folder = ProcessInfo.processInfo.environment["CICLO_RELIABILITY_RESULTS"], !folder.isEmpty else {
            return
        }
        let url = URL(fileURLWithPath: folder)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let name = result.suite.replacingOccurrences(of: " ", with: "-")
        try data.write(to: url.appendingPathComponent("\(name).json"))
    }

    /// Runs a PostgreSQL server binary (pg_ctl...) as the server's user, as scripts/pg.sh does; returns its status
    /// and output.
    ///
    /// Through a Python shim that closes every other descriptor first: a server that pg_ctl starts would otherwise
    /// inherit this process's descriptors, among them those Foundation watches to learn that a child exited, and
    /// neither pg_ctl nor any worker running at that moment would ever be seen to end.
    static func serverCommand(_ tool: String, _ arguments: [String]) throws -> (Int32, String) {
        let environment = ProcessInfo.processInfo.environment
        guard let bin = environment["CICLO_PG_BIN"], !bin.isEmpty else {
            throw SettingError(description: "CICLO_PG_BIN is not set: run under scripts/with-test-db.sh")
        }
        let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("pg-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: outputURL) }
        let command =
            (getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + ["\(bin)/\(tool)"]
            + arguments
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", closingShim, outputURL.path] + command
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "")
    }

    /// argv[1] is the output file, the rest the command; the command's own status is the shim's.
    static let closingShim = """
        import subprocess, sys
        with open(sys.argv[1], "w") as out:
            sys.exit(subprocess.call(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=out, stderr=out, close_fds=True))
        """

    /// The data directory of the server under test.
    static func dataDirectory() throws -> String {
        guard let data = ProcessInfo.processInfo.environment["CICLO_PG_DATA"], !data.isEmpty else {
            throw SettingError(description: "CICLO_PG_DATA is not set: run under scripts/with-test-db.sh")
        }
        return data
    }
}

extension Int {
    /// 100000 as "100,000".
    var grouped: String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.groupingSeparator = ","
        formatter.usesGroupingSeparator = true
        return formatter.string(from: NSNumber(value: self)) ?? String(self)
    }
}
