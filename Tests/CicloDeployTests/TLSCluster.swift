import CicloTestSupport
import Foundation

/// A PostgreSQL cluster of the test's own that takes TCP connections only over TLS and only with a SCRAM password,
/// its certificate signed by a CA made for the test (scripts/pg-tls.sh). Stopped and removed afterwards.
struct TLSCluster {
    let directory: URL
    let port: Int
    /// The password of ciclo_app, the login that owns the database `ciclo`; different in every run.
    let password: String

    var caFile: String { directory.appendingPathComponent("tls/ca.crt").path }
    var wrongCAFile: String { directory.appendingPathComponent("tls/wrong-ca.crt").path }

    /// A URI for ciclo_app with `sslmode=verify-full` against `ca`, at `host` (a name the certificate must carry).
    func url(password: String? = nil, ca: String? = nil, host: String = "localhost", extra: String = "") -> String {
        let secret = password ?? self.password
        return "postgresql://ciclo_app:\(secret)@\(host):\(port)/ciclo?sslmode=verify-full&sslrootcert=\(ca ?? caFile)"
            + extra
    }

    static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/pg-tls.sh")
    }

    static func with(_ body: (TLSCluster) async throws -> Void) async throws {
        // A short path: the server's socket lives in it, and socket paths are limited to about 100 bytes.
        let directory = URL(fileURLWithPath: "/tmp/ciclo-tls-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Under root the server runs as postgres, which must reach its data directory.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        let password = "pw-\(UUID().uuidString)"
        defer {
            _ = try? run(["stop", directory.path], environment: [:])
            try? FileManager.default.removeItem(at: directory)
        }
        // The password reaches the script through its environment, never its arguments.
        let (status, output) = try run(["start", directory.path], environment: ["PG_TLS_PASSWORD": password])
        guard status == 0, let port = Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw StartFailure(description: "scripts/pg-tls.sh start failed (\(status)): \(output)")
        }
        try await body(TLSCluster(directory: directory, port: port, password: password))
    }

    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    private static func run(_ arguments: [String], environment: [String: String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = script
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("pg-tls-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        process.standardOutput = pipe
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        if process.terminationStatus != 0 {
            return (process.terminationStatus, output + ((try? String(contentsOf: errors, encoding: .utf8)) ?? ""))
        }
        return (process.terminationStatus, output)
    }
}
