import Foundation

/// `ciclo` as a real OS process, with its output captured to files.
public final class CicloRun: @unchecked Sendable {
    public let process = Process()
    let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("ciclo-\(UUID().uuidString).out")
    let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("ciclo-\(UUID().uuidString).err")

    public init(url: String?, arguments: [String] = ["migrate"], extraEnvironment: [String: String] = [:]) throws {
        process.executableURL = MigrationDatabase.cicloExecutable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["CICLO_DATABASE_URL"] = url
        environment["CICLO_SCHEMA_DIR"] = MigrationDatabase.schemaDirectory.path
        environment.merge(extraEnvironment) { $1 }
        process.environment = environment
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
    }

    deinit {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }

    public var stdout: String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOf: errURL, encoding: .utf8)) ?? "" }
}

extension CicloRun {
    /// Starts `ciclo` with these arguments against `url`.
    public static func start(_ arguments: [String], url: String?, environment: [String: String] = [:]) throws -> CicloRun {
        let run = try CicloRun(url: url, arguments: arguments, extraEnvironment: environment)
        try run.process.run()
        return run
    }

    public var pid: Int32 { process.processIdentifier }

    /// Sends a signal (SIGTERM, SIGKILL...) to the process.
    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to exit, up to `timeout`; returns its exit status, or nil if it is still running.
    public func wait(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Kills the process if it still runs: tests never leave workers behind.
    public func stop() {
        if process.isRunning { signal(SIGKILL) }
        process.waitUntilExit()
    }
}
