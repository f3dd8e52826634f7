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
        // The password reaches the script through its environment, never its arguments.
        var failure: Error?
        do {
            let (status, output) = try await run(["start", directory.path], environment: ["PG_TLS_PASSWORD": password])
            guard status == 0, let port = Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw StartFailure(description: "scripts/pg-tls.sh start failed (\(status)): \(output)")
            }
            try await body(TLSCluster(directory: directory, port: port, password: password))
        } catch {
            failure = error
        }
        _ = try? await run(["stop", directory.path], environment: [:])
        try? FileManager.default.removeItem(at: directory)
        if let failure { throw failure }
    }

    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    private static func run(_ arguments: [String], environment: [String: String]) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = script
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // Files, not pipes: the output is read once the script has exited, and nothing depends on when a pipe
        // closes. (The server the script starts outlives it; pg-tls.sh starts it without inherited descriptors.)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("pg-tls-\(UUID().uuidString).out")
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("pg-tls-\(UUID().uuidString).err")
        for file in [out, errors] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        defer { for file in [out, errors] { try? FileManager.default.removeItem(at: file) } }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        // Polled, as CicloRun does, rather than blocking a thread of the cooperative pool in waitUntilExit().
        while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        let output = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        if process.terminationStatus != 0 {
            return (process.terminationStatus, output + ((try? String(contentsOf: errors, encoding: .utf8)) ?? ""))
        }
        return (process.terminationStatus, output)
    }
}
