import Foundation

/// `ciclo` as a child process with its wall time and its peak resident memory (VmHWM, read from /proc while it
/// runs: the high-water mark only grows, so the last reading is the peak up to that moment). Output goes to a
/// file: a pipe nobody reads while the child runs could fill and stall it.
enum CicloProcess {
    struct Result {
        var status: Int32
        var seconds: Double
        var peakMegabytes: Double
        var stderr: String
    }

    static func run(_ ciclo: String, _ arguments: [String], environment: [String: String]?, timeout: Duration)
        async throws -> Result
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ciclo)
        process.arguments = arguments
        process.environment = environment ?? ProcessInfo.processInfo.environment
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("ciclo-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        let clock = ContinuousClock.now
        try process.run()
        let deadline = clock + timeout
        var peak = 0.0
        while process.isRunning {
            if let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
            {
                peak = max(peak, kilobytes / 1024)
            }
            if ContinuousClock.now > deadline { process.terminate() }
            try await Task.sleep(for: .milliseconds(2))
        }
        let seconds = (ContinuousClock.now - clock).seconds
        return Result(
            status: process.terminationStatus, seconds: seconds, peakMegabytes: peak,
            stderr: (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }
}
