import Foundation

/// pgbench and psql, run as child processes against the same server, each bounded by a timeout.
struct ExternalTools: Sendable {
    let pgbench: String
    let psql: String
    let target: BenchTarget
    /// Where scripts, data files and captured output go.
    let workDirectory: URL
    /// Extra time a child gets beyond what it was asked to run for, before it is terminated.
    let grace: Duration

    /// pgbench and psql located as `locate` does, with a fresh work directory that `body` may fill; the directory
    /// is removed afterwards whatever happens.
    static func withTools<T>(
        target: BenchTarget, environment: [String: String], pgbench: String? = nil, psql: String? = nil,
        grace: Duration, _ body: (ExternalTools) async throws -> T
    ) async throws -> T {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("ciclo-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let tools = ExternalTools(
            pgbench: try locate("pgbench", explicit: pgbench, environment: environment),
            psql: try locate("psql", explicit: psql, environment: environment),
            target: target, workDirectory: work, grace: grace)
        return try await body(tools)
    }

    /// The first executable found: an explicit path, the server's bin directory, then /usr/bin and PATH.
    static func locate(_ name: String, explicit: String?, environment: [String: String]) throws -> String {
        var candidates: [String] = []
        if let explicit { candidates.append(explicit) }
        if let bin = environment["CICLO_PG_BIN"], !bin.isEmpty { candidates.append("\(bin)/\(name)") }
        candidates.append("/usr/bin/\(name)")
        for directory in (environment["PATH"] ?? "").split(separator: ":") { candidates.append("\(directory)/\(name)") }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        throw BenchError("\(name) was not found (looked in \(candidates.prefix(3).joined(separator: ", ")), PATH)")
    }

    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
        var elapsed: Duration
    }

    /// Runs a program to completion with output captured in files (a pipe could fill up and stall the child),
    /// terminating it if it outlives `timeout`.
    func run(_ executable: String, _ arguments: [String], timeout: Duration) async throws -> Output {
        let stamp = UUID().uuidString.prefix(8)
        let outURL = workDirectory.appendingPathComponent("\(stamp).out")
        let errURL = workDirectory.appendingPathComponent("\(stamp).err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        defer {
            try? outHandle.close()
            try? errHandle.close()
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = target.toolEnvironment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outHandle
        process.standardError = errHandle
        // The watchdog ends only the child this call started, by its own handle: SIGTERM, then SIGKILL.
        let watchdog = Task.detached {
            do { try await Task.sleep(for: timeout) } catch { return }
            guard process.isRunning else { return }
            process.terminate()
            do { try await Task.sleep(for: .seconds(5)) } catch { return }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        defer { watchdog.cancel() }
        let clock = ContinuousClock()
        let start = clock.now
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in continuation.resume(returning: finished.terminationStatus) }
            // A child inherits the signal mask of the thread that spawns it, and Swift's pool threads block nearly
            // every signal: pgbench started from one never sees the SIGALRM that ends its -T run, nor SIGTERM.
            // So the child is spawned from a thread of our own with every signal unblocked.
            let spawner = Thread {
                var none = sigset_t()
                sigemptyset(&none)
                pthread_sigmask(SIG_SETMASK, &none, nil)
                do {
                    try process.run()
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: BenchError("could not start \(executable): \(error)"))
                }
            }
            spawner.start()
        }
        let elapsed = clock.now - start
        let stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        if process.terminationReason == .uncaughtSignal {
            throw BenchError("\(executable) was stopped by signal \(status) (time limit \(Int(timeout.seconds)) s)")
        }
        return Output(status: status, stdout: stdout, stderr: stderr, elapsed: elapsed)
    }

    // MARK: - pgbench

    struct PgbenchResult: Sendable {
        /// Script executions per second, without initial connection time when pgbench reports it.
        var tps: Double
        var latencyAverageMs: Double?
        var transactions: Int?
    }

    /// Writes a pgbench script into the work directory and returns its path.
    func writeScript(_ name: String, _ text: String) throws -> String {
        let url = workDirectory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// `pgbench -n -M prepared -c 1 -j 1 -T seconds -f script`, one client, one thread, no vacuum.
    func pgbench(script: String, seconds: Int) async throws -> PgbenchResult {
        let arguments =
            ["-n", "-M", "prepared", "-c", "1", "-j", "1", "-T", String(seconds), "-f", script]
            + target.toolArguments + (target.database.map { [$0] } ?? [])
        let output = try await run(pgbench, arguments, timeout: .seconds(seconds) + grace)
        guard output.status == 0 else {
            throw BenchError("pgbench failed (status \(output.status)): \(output.stderr.suffix(600))")
        }
        return try Self.parsePgbench(output.stdout)
    }

    /// Reads "tps = N (without initial connection time)" (PostgreSQL 14+), or the "excluding connections
    /// establishing" line of older versions, or failing both the only tps line.
    static func parsePgbench(_ text: String) throws -> PgbenchResult {
        func number(after prefix: String, in line: Substring) -> Double? {
            guard let range = line.range(of: prefix) else { return nil }
            let rest = line[range.upperBound...].drop(while: { $0 == " " })
            return Double(rest.prefix(while: { $0.isNumber || $0 == "." }))
        }
        var tpsLines: [(line: Substring, tps: Double)] = []
        var latency: Double? = nil
        var transactions: Int? = nil
        for line in text.split(separator: "\n") {
            if line.hasPrefix("tps = "), let tps = number(after: "tps =", in: line) { tpsLines.append((line, tps)) }
            if line.hasPrefix("latency average") { latency = number(after: "=", in: line) }
            if line.hasPrefix("number of transactions actually processed") {
                transactions = number(after: ":", in: line).map { Int($0) }
            }
        }
        let preferred =
            tpsLines.first { $0.line.contains("without initial connection time") }
            ?? tpsLines.first { $0.line.contains("excluding") } ?? tpsLines.first
        guard let preferred, preferred.tps > 0 else {
            throw BenchError("no tps figure in pgbench's output:\n\(text.suffix(600))")
        }
        return PgbenchResult(tps: preferred.tps, latencyAverageMs: latency, transactions: transactions)
    }

    // MARK: - psql

    /// `psql -c "\copy table (columns) FROM 'file'"`; returns the row count psql reports and the wall time,
    /// which includes starting psql and connecting (tens of milliseconds).
    func psqlCopy(table: String, columns: String, file: String, timeout: Duration) async throws -> (rows: Int, elapsed: Duration) {
        // The path is ours (a temporary directory); refuse anything that would need quoting.
        guard !file.contains("'"), !file.contains("\\") else { throw BenchError("unusable data file path \(file)") }
        var arguments = ["-X", "-v", "ON_ERROR_STOP=1"] + target.toolArguments
        if let database = target.database { arguments += ["-d", database] }
        arguments += ["-c", "\\copy \(table) (\(columns)) FROM '\(file)'"]
        let output = try await run(psql, arguments, timeout: timeout)
        guard output.status == 0 else {
            throw BenchError("psql \\copy failed (status \(output.status)): \(output.stderr.suffix(600))")
        }
        guard let line = output.stdout.split(separator: "\n").first(where: { $0.hasPrefix("COPY ") }),
            let rows = Int(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
        else {
            throw BenchError("psql printed no COPY count: \(output.stdout.suffix(300))")
        }
        return (rows, output.elapsed)
    }

    /// First line of `tool --version`, for the header.
    func version(_ tool: String) async -> String {
        let output = try? await run(tool, ["--version"], timeout: .seconds(10))
        return output?.stdout.split(separator: "\n").first.map(String.init) ?? "unknown"
    }
}
