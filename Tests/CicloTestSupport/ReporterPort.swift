import Foundation

extension CicloRun {
    public struct NotListening: Error, CustomStringConvertible {
        public var description: String
    }

    /// The port a `ciclo reporter --port 0` process listens on, from its `reporter listening ... port=N` log line.
    public func listeningPort(timeout: Duration = .seconds(30)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = stderr.split(separator: "\n").first(where: { $0.contains("reporter listening") }),
               let match = line.firstMatch(of: /port=(\d+)/), let port = Int(match.1)
            {
                return port
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw NotListening(description: "the reporter did not start: \(stderr.suffix(2000))")
    }
}
