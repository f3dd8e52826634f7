import ArgumentParser
import CicloReports
import Foundation
import Postgres

/// `ciclo-bench reporter`: raw outcomes generated set-based in SQL, folded by `ciclo aggregate --once` as its own
/// process, in outcomes per second beside the same grouping as plain INSERT ... SELECT ... GROUP BY on the same
/// server (ReferenceFold); then `ciclo report --campaign` timed as a process, and `ciclo report --verify`.
struct ReporterBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reporter",
        abstract: "Aggregation throughput over millions of raw outcomes beside a plain GROUP BY; report latency.")

    @Option(help: "Raw outcomes to load: deliveries, responses, conversion events and holdout decisions.")
    var outcomes = 10_000_000
    @Option(help: "Rows per fold chunk (ciclo aggregate --chunk).") var chunk = 50_000
    @Option(help: "Timed runs of ciclo report --campaign.") var reports = 7
    @Option(help: "Seconds any one step (load, fold, reference, verify) may take.") var timeLimit = 1800
    @Flag(help: "Skip ciclo report --verify at the end.") var skipVerify = false
    @Option(help: "The ciclo executable (default: beside ciclo-bench).") var ciclo: String?

    func validate() throws {
        guard (10_000...50_000_000).contains(outcomes) else {
            throw ValidationError("--outcomes must be 10,000 to 50,000,000")
        }
        guard (1...50).contains(reports) else { throw ValidationError("--reports must be 1 to 50") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let target = try BenchTarget(environment: environment)
        let cicloPath = try cicloExecutable(ciclo)
        try await target.withConnection("ciclo-bench-reporter") { admin in
            let migrated: Bool = try await admin.query("SELECT to_regclass('report_rollups') IS NOT NULL").scalar(
                Bool.self)
            guard migrated else {
                throw BenchError("the database is not migrated; make bench-reporter runs ciclo migrate")
            }
            try await admin.query("SET statement_timeout = \(timeLimit * 1000)")
            let load = ReporterLoad(outcomes: outcomes)
            let loaded = try await load.generate(on: admin)
            let raw = loaded.values.reduce(0, +)
            var table = ResultTable()

            note("reference: plain INSERT ... SELECT ... GROUP BY of the same grouping")
            for statement in [
                "VACUUM ANALYZE deliveries", "VACUUM ANALYZE responses", "VACUUM ANALYZE events",
                "VACUUM ANALYZE send_decisions", "CHECKPOINT",
            ] {
                try await admin.executeScript(statement)
            }
            try await admin.executeScript(ReferenceFold.create("bench_reference"))
            var clock = ContinuousClock.now
            for statement in ReferenceFold.statements(into: "bench_reference") { try await admin.query(statement) }
            let referenceSeconds = (ContinuousClock.now - clock).seconds
            try await admin.executeScript("CHECKPOINT")

            note("fold: ciclo aggregate --once --chunk \(chunk)")
            clock = ContinuousClock.now
            let fold = try await CicloProcess.run(
                cicloPath, ["aggregate", "--once", "--chunk", String(chunk)], environment: target.toolEnvironment,
                timeout: .seconds(timeLimit))
            let foldSeconds = (ContinuousClock.now - clock).seconds
            guard fold.status == 0 else {
                throw BenchError("ciclo aggregate failed (\(fold.status)): \(fold.stderr.suffix(800))")
            }
            let folded: Int = try await admin.query("SELECT sum(folded)::int8 FROM report_cursors").scalar(Int.self)
            let sent: Int = try await admin.query("SELECT coalesce(sum(sent), 0)::int8 FROM report_rollups").scalar(
                Int.self)
            let referenceSent: Int = try await admin.query(
                "SELECT coalesce(sum(sent), 0)::int8 FROM bench_reference"
            ).scalar(Int.self)
            // A rate is only a figure if the fold did all the work, and did it right: every raw outcome folded
            // (the load is all due and nothing is queued, so none waits), and the same sends as the reference.
            guard folded == raw else { throw BenchError("the fold counted \(folded) outcomes of \(raw) loaded") }
            guard sent == referenceSent else {
                throw BenchError("the fold counted \(sent) sent, the reference GROUP BY \(referenceSent)")
            }

            note("report: ciclo report --campaign bench-3, \(reports) runs")
            var times: [Double] = []
            for _ in 0..<reports {
                let run = try await CicloProcess.run(
                    cicloPath, ["report", "--campaign", "bench-3"], environment: target.toolEnvironment,
                    timeout: .seconds(60))
                guard run.status == 0 else { throw BenchError("ciclo report failed: \(run.stderr.suffix(400))") }
                times.append(run.seconds * 1000)
            }
            let overview = try await CicloProcess.run(
                cicloPath, ["report"], environment: target.toolEnvironment, timeout: .seconds(timeLimit))
            var verifyLine = ("skipped", "")
            if !skipVerify {
                note("verify: ciclo report --verify")
                let verify = try await CicloProcess.run(
                    cicloPath, ["report", "--verify"], environment: target.toolEnvironment, timeout: .seconds(timeLimit)
                )
                guard verify.status == 0 else {
                    throw BenchError("ciclo report --verify failed (\(verify.status)): \(verify.stderr.suffix(800))")
                }
                verifyLine = ("match", String(format: "%.1f s", verify.seconds))
            }

            table.section(
                "\(raw) raw outcomes: " + loaded.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", "))
            table.row(
                "outcomes aggregated per second", client: Double(folded) / foldSeconds,
                reference: Double(raw) / referenceSeconds)
            table.row("... seconds for all of them", client: foldSeconds, reference: referenceSeconds, decimals: 1)
            table.row("sent counted (must be equal)", client: String(sent), reference: String(referenceSent))
            table.row(
                "target: keeps pace with 50,000 outcomes/s",
                client: Double(folded) / foldSeconds >= 50_000 ? "met" : "not met",
                reference: "")
            times.sort()
            table.section("ciclo report --campaign bench-3 (process wall time, ms; target 200)")
            table.row("median of \(reports)", client: String(format: "%.0f", times[times.count / 2]), reference: "")
            table.row("slowest", client: String(format: "%.0f", times.last!), reference: "")
            table.row(
                "ciclo report (overview: coverage, cohorts...)",
                client: String(format: "%.0f", overview.seconds * 1000),
                reference: "")
            table.row("ciclo report --verify over everything", client: verifyLine.0, reference: verifyLine.1)
            // The fold probes the send-key indexes once per response; whether they fit in shared_buffers decides
            // much of its speed, so the figures say which server they came from.
            let server = try await admin.query(
                "SELECT current_setting('shared_buffers'), current_setting('fsync'), current_setting('server_version')"
            ).single()
            print("ciclo-bench reporter: \(target.description); \(ProcessInfo.processInfo.activeProcessorCount) cores")
            print(
                "server: PostgreSQL \(try server.decode(String.self, at: 2)), shared_buffers "
                    + "\(try server.decode(String.self, at: 0)), fsync \(try server.decode(String.self, at: 1))")
            print(
                "fold = `ciclo aggregate --once` as its own process (chunks of \(chunk), cursors, first-of-kind checks,"
            )
            print(
                "conversion attribution); reference = the same grouping as plain INSERT ... SELECT ... GROUP BY over the"
            )
            print("whole tables (ReferenceFold) on the same server, measured first.")
            print("")
            print(table.render())
        }
    }

    func note(_ text: String) { FileHandle.standardError.write(Data("\(text)\n".utf8)) }
}
