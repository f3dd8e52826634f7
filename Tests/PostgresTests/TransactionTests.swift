import Foundation
import Postgres
import Testing

@Suite("Transactions", .timeLimit(.minutes(3)))
struct TransactionTests {
    @Test("a body that returns commits, and its value is returned")
    func commit() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("tx_commit", "id int8", on: conn) { table throws in
            let value = try await conn.withTransaction { tx in
                try await tx.query("INSERT INTO \(table) VALUES (1), (2)")
                return "done"
            }
            #expect(value == "done")
            // Seen from another session, so the rows were committed, not just visible inside an open transaction.
            #expect(try await TestDatabase.count(table) == 2)
        }
    }

    @Test("a body that throws rolls back and the error comes out unchanged")
    func rollbackOnThrow() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("tx_throw", "id int8", on: conn) { table throws in
            await #expect(throws: ExpectedFailure()) {
                try await conn.withTransaction { tx in
                    try await tx.query("INSERT INTO \(table) VALUES (1)")
                    throw ExpectedFailure()
                }
            }
            #expect(try await TestDatabase.count(table, using: conn) == 0)
            #expect(try await TestDatabase.count(table) == 0)
            // The connection left the transaction: a new one starts cleanly.
            _ = try await conn.withTransaction { tx in try await tx.query("INSERT INTO \(table) VALUES (2)") }
            #expect(try await TestDatabase.count(table) == 1)
        }
    }

    @Test("cancelling the task while the body waits rolls back")
    func rollbackOnCancelWhileWaiting() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("tx_cancel", "id int8", on: conn) { table throws in
            let result = await cancelledTransaction(table, on: conn) { _ in try await Task.sleep(for: .seconds(30)) }
            #expect(throws: CancellationError.self) { try result.get() }
            #expect(try await TestDatabase.count(table, using: conn) == 0, "the same session sees no row: rolled back")
            #expect(try await TestDatabase.count(table) == 0)
        }
    }

    @Test("cancelling the task during a statement in the body rolls back")
    func rollbackOnCancelDuringStatement() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("tx_cancel_stmt", "id int8", on: conn) { table throws in
            let result = await cancelledTransaction(table, on: conn, settle: .milliseconds(200)) { tx in
                try await tx.query("SELECT pg_sleep(30)")
            }
            let error = #expect(throws: PostgresError.self) { try result.get() }
            #expect(error?.code == .queryCanceled)
            #expect(try await TestDatabase.count(table, using: conn) == 0)
            #expect(try await TestDatabase.count(table) == 0)
        }
    }

    /// Runs a transaction that inserts a row and then `rest`, cancels its task once the row is in (and `settle`
    /// has passed, so `rest` is under way), and returns how the task ended.
    private func cancelledTransaction(
        _ table: String, on conn: PostgresConnection, settle: Duration = .zero,
        _ rest: @escaping @Sendable (PostgresConnection) async throws -> Void
    ) async -> Result<Void, any Error> {
        let (inserted, signal) = AsyncStream<Void>.makeStream()
        let task = Task {
            defer { signal.finish() }
            try await conn.withTransaction { tx in
                try await tx.query("INSERT INTO \(table) VALUES (1)")
                signal.yield()
                try await rest(tx)
            }
        }
        for await _ in inserted { break }
        if settle > .zero { try? await Task.sleep(for: settle) }
        task.cancel()
        return await task.result
    }

    @Test("a nested transaction is a savepoint: an inner failure undoes only the inner part")
    func nestedSavepoint() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("tx_nested", "id int8 PRIMARY KEY", on: conn) { table throws in
            try await conn.withTransaction { tx in
                try await tx.query("INSERT INTO \(table) VALUES (1)")
                let inner = await #expect(throws: PostgresError.self) {
                    try await tx.withTransaction { inner in
                        try await inner.query("INSERT INTO \(table) VALUES (2)")
                        try await inner.query("INSERT INTO \(table) VALUES (1)")  // duplicate key
                    }
                }
                #expect(inner?.sqlState == PostgresError.SQLState.uniqueViolation)
                // The outer transaction is usable again after the savepoint rollback.
                try await tx.query("INSERT INTO \(table) VALUES (3)")
                // A nested body that succeeds is kept.
                _ = try await tx.withTransaction { inner in try await inner.query("INSERT INTO \(table) VALUES (4)") }
                // A nested body that throws a Swift error is undone too.
                await #expect(throws: ExpectedFailure()) {
                    try await tx.withTransaction { inner in
                        try await inner.query("INSERT INTO \(table) VALUES (5)")
                        throw ExpectedFailure()
                    }
                }
            }
            let ids = try await conn.query("SELECT id FROM \(table) ORDER BY id").map { try $0.decode(Int.self, at: 0) }
            #expect(ids == [1, 3, 4])
        }
    }

    @Test("a body that swallows a failed statement gets an error and stores nothing")
    func swallowedFailure() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("tx_swallow", "id int8", on: conn) { table throws in
            let error = await #expect(throws: PostgresError.self) {
                try await conn.withTransaction { tx in
                    try await tx.query("INSERT INTO \(table) VALUES (1)")
                    do { try await tx.query("SELECT 1 / 0") } catch {}
                    return 42
                }
            }
            #expect(error?.code == .misuse)
            #expect(error?.message.contains("rolled back") == true)
            #expect(try await TestDatabase.count(table, using: conn) == 0)
            #expect(try await TestDatabase.count(table) == 0)
        }
    }

    @Test("another task using the connection during a transaction gets .misuse")
    func otherTaskMisuse() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("tx_misuse", "id int8", on: conn) { table throws in
            let (opened, openedSignal) = AsyncStream<Void>.makeStream()
            let (release, releaseSignal) = AsyncStream<Void>.makeStream()
            let transaction = Task {
                // Ends the wait below even if the transaction fails before signalling.
                defer { openedSignal.finish() }
                return try await conn.withTransaction { tx in
                    try await tx.query("INSERT INTO \(table) VALUES (1)")
                    // A detached task started from inside the body is another task too.
                    let detached = await Task.detached { try await tx.query("INSERT INTO \(table) VALUES (95)") }.result
                    openedSignal.yield()
                    for await _ in release { break }
                    try await tx.query("INSERT INTO \(table) VALUES (2)")
                    return detached
                }
            }
            for await _ in opened { break }

            let query = await #expect(throws: PostgresError.self) {
                try await conn.query("INSERT INTO \(table) VALUES (99)")
            }
            #expect(query?.code == .misuse)
            let nested = await #expect(throws: PostgresError.self) {
                try await conn.withTransaction { tx in try await tx.query("INSERT INTO \(table) VALUES (98)") }
            }
            #expect(nested?.code == .misuse)
            let pipeline = await #expect(throws: PostgresError.self) {
                try await conn.pipeline([PostgresStatement("INSERT INTO \(table) VALUES (97)")])
            }
            #expect(pipeline?.code == .misuse)
            let copy = await #expect(throws: PostgresError.self) {
                try await conn.copyFrom("COPY \(table) FROM STDIN") { try $0.write([96]) }
            }
            #expect(copy?.code == .misuse)
            releaseSignal.yield()
            let detached = try await transaction.value
            let fromDetached = #expect(throws: PostgresError.self) { try detached.get() }
            #expect(fromDetached?.code == .misuse)
            let ids = try await conn.query("SELECT id FROM \(table) ORDER BY id").map { try $0.decode(Int.self, at: 0) }
            #expect(ids == [1, 2], "the intruders' statements did not slip into the transaction")
            #expect(try await conn.query("SELECT 1::int4").scalar(Int.self) == 1, "usable by anyone afterwards")
        }
    }
}
