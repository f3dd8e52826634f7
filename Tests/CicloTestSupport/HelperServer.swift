import Foundation

/// A test server in a Python process of its own: started on a free port, killed when the test ends.
///
/// The script prints its port as the first line of stdout. Its stdin is a pipe this process holds open: if the test
/// runner dies without calling `stop()`, the pipe closes and the script exits, so no server outlives its test run.
public final class HelperServer: @unchecked Sendable {
    /// The Python process serving.
    public let process = Process()
    /// A fresh directory for the script's records (received messages, requests, certificates).
    public let directory: URL
    /// The TCP port the server listens on, on 127.0.0.1.
    public let port: Int
    private let stdin = Pipe()

    /// The script did not print its port: its stderr, for the failure message.
    public struct StartFailure: Error, CustomStringConvertible {
        public var description: String
    }

    private init(script: String, arguments: [String]) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ciclo-helper-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let scriptURL = directory.appendingPathComponent("server.py")
        try Data(script.utf8).write(to: scriptURL)
        let outURL = directory.appendingPathComponent("stdout")
        let errURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scriptURL.path, directory.path] + arguments
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = stdin
        try process.run()

        // Bounded wait for the first line; on any failure the process is killed before the error is thrown. Generous:
        // a suite starts a dozen Python servers at once, and on a loaded 2-core machine each import can take seconds.
        let deadline = ContinuousClock.now + .seconds(60)
        var found: Int?
        while found == nil && process.isRunning && ContinuousClock.now < deadline {
            let text = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n", omittingEmptySubsequences: false).first, text.contains("\n") {
                found = Int(line.trimmingCharacters(in: .whitespaces))
                if found == nil { break }
            } else {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        guard let found else {
            let output = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            throw StartFailure(description: "the helper server did not start: \(output.suffix(2000))")
        }
        port = found
    }

    /// Starts `script` (Python source) with `arguments` after the records directory.
    public static func start(_ script: String, _ arguments: [String] = []) async throws -> HelperServer {
        try await HelperServer(script: script, arguments: arguments)
    }

    /// Kills the server and waits for it; safe to call twice.
    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? stdin.fileHandleForWriting.close()
    }

    /// Kills the server and deletes its records.
    public func stopAndClean() {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// What the script wrote to stderr, for failure messages.
    public var stderr: String {
        (try? String(contentsOf: directory.appendingPathComponent("stderr"), encoding: .utf8)) ?? ""
    }

    /// The JSON records the script wrote under `folder`, oldest first (the scripts number them).
    public func records<T: Decodable>(_ type: T.Type, in folder: String) throws -> [T] {
        let url = directory.appendingPathComponent(folder)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted()
        return try names.map {
            try JSONDecoder().decode(T.self, from: Data(contentsOf: url.appendingPathComponent($0)))
        }
    }

    /// How many files the script wrote under `folder` (one per connection, for instance).
    public func count(in folder: String) -> Int {
        let url = directory.appendingPathComponent(folder)
        return ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).count
    }

    /// A TCP port on 127.0.0.1 that nothing listens on: a server started and killed at once.
    public static func closedPort(using script: String) async throws -> Int {
        let server = try await start(script)
        server.stopAndClean()
        return server.port
    }
}
