import CicloTestSupport
import Foundation
import Postgres

/// Figure 3: the same INSERT one at a time (one transaction each) and in pipelines of N (one transaction a
/// pipeline), against pgbench running the equivalent scripts.
struct StatementFigure {
    let target: BenchTarget
    let tools: ExternalTools
    let seconds: Int
    let warmup: Duration
    let maxOperations: Int
    let rounds: Int

    static let table = "bench_stmt"
    static let insert = "INSERT INTO bench_stmt (id, v) VALUES ($1, $2)"

    /// What one measured run did, with what the server says it committed.
    struct Measured {
        var statementsPerSecond: Double
        var rows: Int
        var transactions: Int
        var statementsPerTransaction: Double { Double(rows) / Double(max(1, transactions)) }

        /// The best rate of two rounds, with their rows and transactions added up.
        func merged(_ other: Measured?) -> Measured {
            guard let other else { return self }
            return Measured(
                statementsPerSecond: max(statementsPerSecond, other.statementsPerSecond), rows: rows + other.rows,
                transactions: transactions + other.transactions)
        }
    }

    /// Runs `body` between a fresh table and a count, measuring the write transactions it took.
    private func measured(
        _ admin: PostgresConnection, _ body: () async throws -> Double
    ) async throws -> Measured {
        try await admin.executeScript("TRUNCATE \(Self.table)")
        await admin.settle()
        let before = try await admin.nextTransactionID()
        let perSecond = try await body()
        let after = try await admin.nextTransactionID()
        let rows = try await admin.rowCount(Self.table)
        return Measured(statementsPerSecond: perSecond, rows: rows, transactions: after - before)
    }

    /// Our client: batch size 1 is `query(prepared: true)`, larger ones `pipeline(prepared: true)`.
    private func runClient(batch: Int, admin: PostgresConnection) async throws -> Measured {
        try await target.withConnection("ciclo-bench-insert") { connection in
            var random = SplitMix64(seed: UInt64(batch))
            func statements(_ n: Int) -> [PostgresStatement] {
                (0..<n).map { _ in
                    PostgresStatement(Self.insert, [Int(random.next() % 1_000_000_000) + 1,
                                                   String(random.next() % 1_000_000_000 + 1)])
                }
            }
            func send(_ batchStatements: [PostgresStatement]) async throws {
                if batch == 1 {
                    try await connection.query(batchStatements[0].sql, batchStatements[0].binds, prepared: true)
                } else {
                    let results = try await connection.pipeline(batchStatements, prepared: true)
                    if results.count != batchStatements.count { throw BenchError("pipeline returned \(results.count) results") }
                }
            }
            let clock = ContinuousClock()
            let warmupEnd = clock.now + warmup
            var warmed = 0
            repeat {
                try await send(statements(batch))
                warmed += batch
            } while clock.now < warmupEnd && warmed < maxOperations
            var done = 0
            let result = try await measured(admin) {
                let start = clock.now
                let deadline = start + .seconds(seconds)
                var now = start
                while done + batch <= maxOperations {
                    // Building the statements is part of the client's cost, as pgbench's \set is part of its.
                    try await send(statements(batch))
                    done += batch
                    now = clock.now
                    if now >= deadline { break }
                }
                return Double(done) / (now - start).seconds
            }
            // The rate counts INSERTs sent: it is only a figure if each of them stored its row.
            guard result.rows == done else {
                throw BenchError("the client sent \(done) INSERTs but \(Self.table) holds \(result.rows) rows")
            }
            return result
        }
    }

    /// pgbench with -M prepared: one INSERT per script run, or `\startpipeline`, N INSERTs, `\endpipeline`.
    private func runReference(batch: Int, admin: PostgresConnection) async throws -> Measured {
        let one = "\\set id random(1, 1000000000)\n\\set v random(1, 1000000000)\nINSERT INTO bench_stmt (id, v) VALUES (:id, :v);\n"
        let text = batch == 1 ? one : "\\startpipeline\n" + String(repeating: one, count: batch) + "\\endpipeline\n"
        let script = try tools.writeScript("insert_\(batch).sql", text)
        var transactions: Int?
        let result = try await measured(admin) {
            let pgbench = try await tools.pgbench(script: script, seconds: seconds)
            transactions = pgbench.transactions
            return pgbench.tps * Double(batch)
        }
        // Likewise pgbench's tps: each script run it counted must have stored its `batch` rows.
        guard let transactions, result.rows == transactions * batch else {
            throw BenchError(
                "pgbench counted \(transactions.map(String.init) ?? "no") runs of \(batch) INSERTs but \(Self.table) "
                    + "holds \(result.rows) rows")
        }
        return result
    }

    func run(into table: inout ResultTable, admin: PostgresConnection, batches: [Int]) async throws {
        try await admin.executeScript("""
            DROP TABLE IF EXISTS \(Self.table);
            CREATE TABLE \(Self.table) (id bigint, v text);
            """)
        table.section("3. INSERT, prepared, autocommit  [reference: pgbench -M prepared -c 1 -j 1]")
        for batch in [1] + batches {
            let name = batch == 1 ? "one at a time" : "pipeline of \(batch)"
            var best: (client: Measured, reference: Measured)? = nil
            for round in 1...rounds {
                progress("3. INSERT \(name), round \(round)/\(rounds): ciclo client, \(seconds) s")
                let client = try await runClient(batch: batch, admin: admin)
                progress("3. INSERT \(name), round \(round)/\(rounds): pgbench, \(seconds) s")
                let reference = try await runReference(batch: batch, admin: admin)
                best = (client.merged(best?.client), reference.merged(best?.reference))
            }
            guard let (client, reference) = best else { continue }
            table.row("\(name): statements/s (best round)", client: client.statementsPerSecond, reference: reference.statementsPerSecond)
            table.row("  rows / write transactions, all rounds",
                      client: "\(ResultTable.format(client.rows)) / \(ResultTable.format(client.transactions))",
                      reference: "\(ResultTable.format(reference.rows)) / \(ResultTable.format(reference.transactions))")
            table.row("  statements per commit (server-counted)",
                      client: client.statementsPerTransaction, reference: reference.statementsPerTransaction, decimals: 1)
        }
        table.note("\(Self.insert)")
        table.note("client: query(prepared: true) per statement, or pipeline(prepared: true) per batch;")
        table.note("pgbench: one INSERT per script run, or \\startpipeline, N INSERTs, \\endpipeline per script run.")
        table.note("Both sides run in autocommit with no BEGIN: one at a time, every INSERT is its own transaction and")
        table.note("commit (an fsync with --durable). In a pipeline, the statements up to the Sync form one implicit")
        table.note("transaction: our pipeline() sends one Sync per call, pgbench one at \\endpipeline, so each commits")
        table.note("once per batch. 'Write transactions' is the server's transaction-id counter across the run (an")
        table.note("autovacuum ANALYZE of the table can add a few). One at a time is bound by the commit fsync, so on a")
        table.note("shared disk its ratio is the least steady figure here.")
        table.note("pgbench figures are its tps (without connection time) x statements per script run.")
    }
}
