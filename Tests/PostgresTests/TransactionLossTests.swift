import Foundation
import Postgres
import Testing

/// Transactions whose connection breaks, and transactions raced by other tasks: the all-or-nothing promise must
/// hold in both.
@Suite("Transactions under failure and contention", .timeLimit(.minutes(3)))
struct TransactionLossTests {
    /// Terminates backend `pid` from another session and waits until it is gone.
    static func terminate(_ pid: Int32) async throws {
        let admin = try await TestDatabase.connect("ciclo-tests-admin")
        _ = try await admin.query("SELECT pg_terminate_backend($1)", [pid])
        try await TestDatabase.waitForBackendExit(pid, using: admin)
    }

    @Test("a connection lost inside a transaction fails the transaction, and the next use starts clean")
    func lostInsideTransaction() async throws {
        let conn = try await TestDatabase.connect("ciclo-tests-victim")
        try await TestDatabase.withTable("txloss_plain", "id int8", on: conn) { table throws in
            let pid = try await conn.backendPID()
            let error = await #expect(throws: PostgresError.self) {
                try await conn.withTransaction { tx in
                    try await tx.query("INSERT INTO \(table) VALUES (1)")
                    try await Self.terminate(pid)
                    try await tx.query("INSERT INTO \(table) VALUES (2)")
                }
            }
            #expect(error?.code == .connectionLost)
            #expect(try await TestDatabase.count(table) == 0)
            // Reconnected, and not inside a leftover transaction: this commits on its own.
            try await conn.query("INSERT INTO \(table) VALUES (3)")
            #expect(try await TestDatabase.count(table) == 1)
        }
    }

    @Test("after the connection is lost, a body that catches the error cannot go on outside the transaction")
    func caughtLossDoesNotAutocommit() async throws {
        let conn = try await TestDatabase.connect("ciclo-tests-victim")
        try await TestDatabase.withTable("txloss_caught", "id int8", on: conn) { table throws in
            let pid = try await conn.backendPID()
            let outcome = await attempt {
                try await conn.withTransaction { tx in
                    try await tx.query("INSERT INTO \(table) VALUES (1)")
                    try await Self.terminate(pid)
                    do { try await tx.query("INSERT INTO \(table) VALUES (2)") } catch {}
                    // The transaction died with the session. This must fail rather than reconnect and run alone.
                    try await tx.query("INSERT INTO \(table) VALUES (3)")
                }
            }
            #expect(throws: PostgresError.self, "withTransaction reported success for a transaction it lost") {
                try outcome.get()
            }
            let stored = try await conn.query("SELECT id FROM \(table) ORDER BY id").map { try $0.decode(Int.self, at: 0) }
            #expect(stored == [], "rows stored outside the transaction: \(stored)")
        }
    }

    @Test("a connection lost inside a savepoint does not let the outer transaction continue on a new session")
    func lostInsideSavepoint() async throws {
        let conn = try await TestDatabase.connect("ciclo-tests-victim")
        try await TestDatabase.withTable("txloss_savepoint", "id int8", on: conn) { table throws in
            let pid = try await conn.backendPID()
            let outcome = await attempt {
                try await conn.withTransaction { tx in
                    try await tx.query("INSERT INTO \(table) VALUES (1)")
                    // The usual savepoint pattern: the inner part may fail, the outer carries on.
                    do {
                        try await tx.withTransaction { inner in
                            try await Self.terminate(pid)
                            try await inner.query("INSERT INTO \(table) VALUES (2)")
                        }
                    } catch {}
                    try await tx.query("INSERT INTO \(table) VALUES (3)")
                }
            }
            #expect(throws: PostgresError.self, "withTransaction reported success for a transaction it lost") {
                try outcome.get()
            }
            let stored = try await conn.query("SELECT id FROM \(table) ORDER BY id").map { try $0.decode(Int.self, at: 0) }
            #expect(stored == [], "rows stored outside the transaction: \(stored)")
        }
    }

    @Test("concurrent withTransaction calls on one connection: each is all-or-nothing, the losers get .misuse")
    func racingTransactions() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("txrace", "task int8, part int8", on: conn) { table throws in
            let outcomes = await withTaskGroup(of: (Int, PostgresError.Code?).self) { group in
                for task in 0..<20 {
                    group.addTask {
                        do {
                            try await conn.withTransaction { tx in
                                try await tx.query("INSERT INTO \(table) VALUES ($1, 1)", [task])
                                try await Task.sleep(for: .milliseconds(5))
                                try await tx.query("INSERT INTO \(table) VALUES ($1, 2)", [task])
                            }
                            return (task, nil)
                        } catch {
                            return (task, (error as? PostgresError)?.code ?? .protocolError)
                        }
                    }
                }
                var all: [(Int, PostgresError.Code?)] = []
                for await outcome in group { all.append(outcome) }
                return all
            }
            let winners = Set(outcomes.filter { $0.1 == nil }.map(\.0))
            #expect(!winners.isEmpty)
            #expect(outcomes.allSatisfy { $0.1 == nil || $0.1 == .misuse }, "\(outcomes)")
            let rows = try await conn.query("SELECT task, count(*) FROM \(table) GROUP BY task")
            var stored: [Int: Int] = [:]
            for row in rows { stored[try row.decode(Int.self, at: 0)] = try row.decode(Int.self, at: 1) }
            #expect(Set(stored.keys) == winners, "rows of tasks that failed, or missing rows of tasks that succeeded")
            #expect(stored.values.allSatisfy { $0 == 2 })
        }
    }
}
