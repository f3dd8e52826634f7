import ArgumentParser
import Foundation
import Postgres

/// `ciclo-bench`: benchmarks that print our figures beside a reference measured in the same run.
@main
struct CicloBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ciclo-bench",
        abstract: "Benchmarks for ciclo, each beside a reference measured on the same server in the same run.",
        discussion: """
            The server comes from CICLO_DATABASE_URL (unset: libpq's PG* variables). Run through
            scripts/with-test-db.sh --durable, as `make bench-client` does, for a throwaway server.
            """,
        subcommands: [ClientBench.self, QueueBench.self, RenderBench.self, SchedulerBench.self, ReporterBench.self]
    )
}

struct ClientBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "The PostgreSQL client against pgbench and psql: round trips, COPY, single and pipelined INSERTs.")

    enum Figure: String, CaseIterable, ExpressibleByArgument {
        case select1, copy, insert
    }

    @Option(help: "Seconds each timed run lasts (client and reference alike).")
    var seconds: Int = 3

    @Option(help: "Rounds of each figure; client and reference alternate and each keeps its best round.")
    var rounds: Int = 3

    @Option(help: "Seconds of untimed warm-up before each client run.")
    var warmup: Double = 0.5

    @Option(help: "Rows in the COPY figure.")
    var copyRows: Int = 1_000_000

    @Option(parsing: .upToNextOption, help: "Pipeline batch sizes for the INSERT figure.")
    var batchSizes: [Int] = [100, 1000]

    @Option(help: "Upper bound on operations in any one timed loop.")
    var maxOperations: Int = 5_000_000

    @Option(help: "Seconds any load or child process may take beyond its planned time before it is stopped.")
    var timeLimit: Int = 120

    @Option(parsing: .upToNextOption, help: "Figures to run: \(Figure.allCases.map(\.rawValue).joined(separator: ", ")).")
    var figures: [Figure] = Figure.allCases

    @Option(help: "pgbench to use (default: $CICLO_PG_BIN/pgbench, /usr/bin/pgbench, PATH).")
    var pgbench: String?

    @Option(help: "psql to use (default: $CICLO_PG_BIN/psql, /usr/bin/psql, PATH).")
    var psql: String?

    func validate() throws {
        guard (1...600).contains(seconds) else { throw ValidationError("--seconds must be between 1 and 600") }
        guard (1...10).contains(rounds) else { throw ValidationError("--rounds must be between 1 and 10") }
        guard (0...60).contains(warmup) else { throw ValidationError("--warmup must be between 0 and 60") }
        guard (1...50_000_000).contains(copyRows) else { throw ValidationError("--copy-rows must be 1 to 50,000,000") }
        guard batchSizes.allSatisfy({ (2...10_000).contains($0) }) else {
            throw ValidationError("--batch-sizes must each be between 2 and 10,000")
        }
        guard maxOperations >= 10_000 else { throw ValidationError("--max-operations must be at least 10,000") }
        guard (10...3600).contains(timeLimit) else { throw ValidationError("--time-limit must be 10 to 3600") }
    }

    /// The 1-minute load average, to show how busy the shared machine was.
    static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").first.map(String.init) ?? "?"
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let target = try BenchTarget(environment: environment)
        try await ExternalTools.withTools(
            target: target, environment: environment, pgbench: pgbench, psql: psql, grace: .seconds(timeLimit)
        ) { tools in

            let started = ContinuousClock.now
            let loadBefore = Self.loadAverage()
            var table = ResultTable()
            let serverVersion = try await target.withConnection("ciclo-bench-admin") { admin in
                let version = try await admin.query("SHOW server_version").scalar(String.self)
                let fsync = try await admin.query("SHOW fsync").scalar(String.self)
                let commit = try await admin.query("SHOW synchronous_commit").scalar(String.self)
                let warm = Duration.seconds(warmup)
                if figures.contains(.select1) {
                    try await RoundTripFigure(target: target, tools: tools, seconds: seconds, warmup: warm,
                                              maxOperations: maxOperations, rounds: rounds).run(into: &table)
                }
                if figures.contains(.copy) {
                    try await CopyFigure(target: target, tools: tools, rowCount: copyRows, timeLimit: .seconds(timeLimit),
                               rounds: rounds)
                        .run(into: &table, admin: admin)
                    try await admin.executeScript("DROP TABLE IF EXISTS \(CopyFigure.clientTable), \(CopyFigure.psqlTable)")
                }
                if figures.contains(.insert) {
                    try await StatementFigure(target: target, tools: tools, seconds: seconds, warmup: warm,
                                              maxOperations: maxOperations, rounds: rounds)
                        .run(into: &table, admin: admin, batches: batchSizes)
                    try await admin.executeScript("DROP TABLE IF EXISTS \(StatementFigure.table)")
                }
                return "PostgreSQL \(version) (fsync=\(fsync), synchronous_commit=\(commit))"
            }
            let pgbenchVersion = await tools.version(tools.pgbench)
            let cores = ProcessInfo.processInfo.activeProcessorCount

            print("ciclo-bench client: \(target.description), \(serverVersion)")
            print("client libpq \(PostgresConnection.libpqVersion); reference \(pgbenchVersion), \(tools.psql); \(cores) cores")
            print("\(rounds) alternating round(s) per figure, best round kept; each timed run \(seconds) s after \(warmup) s warm-up")
            print("ratio = client / reference (higher is better unless marked); load average \(loadBefore) before, \(Self.loadAverage()) after")
            print("")
            print(table.render())
            print("")
            print("Note: this machine is shared and noisy, so absolute figures move from run to run; the ratios, whose")
            print("two sides ran back to back on the same server, count more than the absolute numbers.")
            print("Total time \(ResultTable.format((ContinuousClock.now - started).seconds, decimals: 1)) s.")
        }
    }
}
