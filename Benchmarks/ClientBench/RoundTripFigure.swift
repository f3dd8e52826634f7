import Foundation
import Postgres

/// Figure 1: round trips per second for `SELECT 1`, one connection, one statement at a time, prepared.
struct RoundTripFigure {
    let target: BenchTarget
    let tools: ExternalTools
    let seconds: Int
    let warmup: Duration
    let maxOperations: Int
    let rounds: Int

    struct ClientResult {
        var operations: Int
        var elapsed: Duration
        /// Per-round-trip latencies in nanoseconds, sorted.
        var latencies: [Int64]
        func percentileMs(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            let index = min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)
            return Double(latencies[max(0, index)]) / 1e6
        }
        var meanMs: Double { elapsed.seconds * 1e3 / Double(max(1, operations)) }
        var perSecond: Double { Double(operations) / elapsed.seconds }
        /// Microseconds per call of an actor method that does no I/O: the cost of hopping onto the connection's
        /// thread and back, which every statement pays on top of its round trip.
        var hopMicroseconds: Double = 0
    }

    func runClient() async throws -> ClientResult {
        try await target.withConnection("ciclo-bench-select1") { try await measure($0) }
    }

    private func measure(_ connection: PostgresConnection) async throws -> ClientResult {
        let sql = "SELECT 1"
        // Warm-up: prepares the statement and checks the answer once.
        guard try await connection.query(sql, prepared: true).scalar(Int.self) == 1 else {
            throw BenchError("SELECT 1 did not return 1")
        }
        let clock = ContinuousClock()
        let warmupEnd = clock.now + warmup
        var warmupCount = 0
        while clock.now < warmupEnd && warmupCount < maxOperations {
            try await connection.query(sql, prepared: true)
            warmupCount += 1
        }
        var latencies: [Int64] = []
        latencies.reserveCapacity(min(maxOperations, 4_000_000))
        let start = clock.now
        let deadline = start + .seconds(seconds)
        var last = start
        while latencies.count < maxOperations {
            let rows = try await connection.query(sql, prepared: true)
            let now = clock.now
            if rows.count != 1 { throw BenchError("SELECT 1 returned \(rows.count) rows") }
            let (s, atto) = (now - last).components
            latencies.append(s * 1_000_000_000 + atto / 1_000_000_000)
            last = now
            if now >= deadline { break }
        }
        latencies.sort()
        var result = ClientResult(operations: latencies.count, elapsed: last - start, latencies: latencies)
        // The same loop around a call that never touches the network (PQbackendPID reads a cached field).
        let hopStart = clock.now
        var hops = 0
        while hops < 200_000 && clock.now - hopStart < .seconds(1) {
            _ = try await connection.backendPID()
            hops += 1
        }
        result.hopMicroseconds = (clock.now - hopStart).seconds * 1e6 / Double(max(1, hops))
        return result
    }

    func runReference() async throws -> ExternalTools.PgbenchResult {
        let script = try tools.writeScript("select1.sql", "SELECT 1;\n")
        return try await tools.pgbench(script: script, seconds: seconds)
    }

    func run(into table: inout ResultTable) async throws {
        // Client and pgbench alternate, and each side keeps its best round: a burst of load from a neighbour
        // then hurts one round of one side rather than the whole comparison.
        var best: (client: ClientResult, reference: ExternalTools.PgbenchResult)? = nil
        for round in 1...rounds {
            progress("1. SELECT 1, round \(round)/\(rounds): ciclo client, \(seconds) s")
            let client = try await runClient()
            progress("1. SELECT 1, round \(round)/\(rounds): pgbench, \(seconds) s")
            let reference = try await runReference()
            best = (
                best.map { $0.client.perSecond >= client.perSecond ? $0.client : client } ?? client,
                best.map { $0.reference.tps >= reference.tps ? $0.reference : reference } ?? reference
            )
        }
        guard let (client, reference) = best else { return }
        table.section("1. SELECT 1, one connection, one at a time, prepared  [reference: pgbench -M prepared -c 1 -j 1]")
        table.row("round trips/s", client: client.perSecond, reference: reference.tps)
        table.row("latency mean, ms (lower is better)", client: client.meanMs, reference: reference.latencyAverageMs, decimals: 3)
        table.row("latency p50, ms", client: ResultTable.format(client.percentileMs(0.50), decimals: 3), reference: "-")
        table.row("latency p99, ms", client: ResultTable.format(client.percentileMs(0.99), decimals: 3), reference: "-")
        table.row("no-I/O actor call (backendPID()), µs", client: ResultTable.format(client.hopMicroseconds, decimals: 1),
                  reference: "-")
        table.row("round trips in the best round", client: ResultTable.format(client.operations),
                  reference: reference.transactions.map(ResultTable.format) ?? "-")
    }
}

/// One progress line on stderr, so the table on stdout stays clean.
func progress(_ text: String) {
    FileHandle.standardError.write(Data("... \(text)\n".utf8))
}
