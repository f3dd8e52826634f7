import CicloQueue
import Foundation
import Postgres

/// Drain: `jobs` due jobs, emptied by N `ciclo worker --drain` processes, against pgbench running the same claim and
/// complete statements (SendQueue.claimSQL, SendQueue.finishSQL) with N clients and no client logic.
struct QueueDrainFigure {
    let target: BenchTarget
    let tools: ExternalTools
    let setup: QueueSetup
    let ciclo: String
    let jobs: Int
    let concurrency: Int
    let batch: Int
    let timeLimit: Duration

    func run(into table: inout ResultTable, workerCounts: [Int]) async throws {
        table.section("drain, jobs/s (completions committed)")
        let script = try tools.writeScript("claim_complete.sql", pgbenchScript())
        for workers in workerCounts {
            let ours = try await drainWithWorkers(workers)
            let reference = try await drainWithPgbench(clients: workers, script: script)
            table.row("\(workers) worker process\(workers == 1 ? "" : "es") vs pgbench -c \(workers)",
                      client: ours, reference: reference)
        }
        table.note("reference: pgbench -M prepared -f claim_complete.sql, each transaction = the claim of \(batch) + their completion")
    }

    private func drainWithWorkers(_ count: Int) async throws -> Double {
        try await setup.reset(enqueue: jobs)
        let start = try await setup.now()
        let arguments = ["worker", "--transport", "null", "--drain", "--concurrency", String(concurrency), "--batch", String(batch)]
        let outputs = try await withThrowingTaskGroup(of: ExternalTools.Output.self) { group in
            for _ in 0..<count { group.addTask { try await tools.run(ciclo, arguments, timeout: timeLimit) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for output in outputs where output.status != 0 {
            throw BenchError("ciclo worker exited \(output.status): \(output.stderr.suffix(400))")
        }
        return try await rate(since: start)
    }

    private func drainWithPgbench(clients: Int, script: String) async throws -> Double {
        try await setup.reset(enqueue: jobs)
        let start = try await setup.now()
        // Enough transactions for every client to claim a full share, plus two that find the queue empty.
        let perClient = (jobs + clients * batch - 1) / (clients * batch) + 2
        let arguments = ["-n", "-M", "prepared", "-c", String(clients), "-j", String(clients), "-t", String(perClient),
                         "-f", script] + target.toolArguments + (target.database.map { [$0] } ?? [])
        let output = try await tools.run(tools.pgbench, arguments, timeout: timeLimit)
        guard output.status == 0 else { throw BenchError("pgbench failed: \(output.stderr.suffix(600))") }
        return try await rate(since: start)
    }

    private func rate(since start: PostgresTimestamp) async throws -> Double {
        let (count, seconds) = try await setup.drained(since: start)
        guard count == jobs else { throw BenchError("drained \(count) of \(jobs) jobs") }
        return Double(count) / max(seconds, 1e-6)
    }

    /// The worker's own statements with their parameters written as literals (pgbench cannot bind our arrays): the
    /// claim's ids are captured with \gset and handed to the completion, as the worker hands them over.
    func pgbenchScript() -> String {
        let claim = SendQueue.claimSQL
            .replacingOccurrences(of: "$1", with: "'pgbench'")
            .replacingOccurrences(of: "$2", with: String(batch))
            .replacingOccurrences(of: "$3::text[]", with: "NULL::text[]")
            .replacingOccurrences(of: "$4::int8", with: "NULL::int8")
            .replacingOccurrences(of: "$5::int8", with: "60000::int8")
        let finish = SendQueue.finishSQL
            .replacingOccurrences(of: "$1", with: "'pgbench'")
            .replacingOccurrences(of: "$2::int8[]", with: ":ids::int8[]")
            .replacingOccurrences(of: "$3::text[]", with: "array_fill('sent'::text, ARRAY[cardinality(:ids::int8[])])")
            .replacingOccurrences(of: "$4::text[]", with: "array_fill(NULL::text, ARRAY[cardinality(:ids::int8[])])")
            .replacingOccurrences(of: "$5::text[]", with: "array_fill(NULL::text, ARRAY[cardinality(:ids::int8[])])")
            .replacingOccurrences(of: "$6::int8[]", with: ":tokens::int8[]")
        return """
            WITH claimed AS (
            \(claim)
            )
            SELECT coalesce(array_agg(id), '{}')::text AS ids, coalesce(array_agg(lease_token), '{}')::text AS tokens
            FROM claimed \\gset
            \(finish);

            """
    }
}
