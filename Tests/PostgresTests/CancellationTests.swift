import Foundation
import Postgres
import Testing

@Suite("Task cancellation", .timeLimit(.minutes(3)))
struct CancellationTests {
    @Test("cancelling a task in pg_sleep(30) ends it promptly with .queryCanceled (57014)",
          .timeLimit(.minutes(1)))
    func cancelRunningStatement() async throws {
        let conn = try await TestDatabase.connect()
        let admin = try await TestDatabase.connect()
        let pid = try await conn.backendPID()
        let task = Task { try await conn.query("SELECT pg_sleep(30)") }
        // Bounded wait until the statement is really running on the server, then give it ~200 ms more.
        let running = try await TestDatabase.waitUntil {
            try await admin.query(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND query LIKE '%pg_sleep%'",
                [pid]
            ).scalar(Int.self) == 1
        }
        #expect(running)
        try await Task.sleep(for: .milliseconds(200))

        let cancelledAt = ContinuousClock.now
        task.cancel()
        let result = await task.result
        let elapsed = cancelledAt.duration(to: .now)
        // Well inside the 30 s sleep, which a cancel that did not reach the server would have run out; 2.14 s was seen
        // with the whole suite running, so the bound leaves room for a loaded machine.
        #expect(elapsed < .seconds(10), "cancellation took \(elapsed)")

        let error = #expect(throws: PostgresError.self) { try result.get() }
        #expect(error?.code == .queryCanceled)
        #expect(error?.sqlState == PostgresError.SQLState.queryCanceled)
        #expect(error?.sqlState == "57014")

        // Same connection, same session: it still answers.
        #expect(try await conn.query("SELECT 7::int4").scalar(Int.self) == 7)
        #expect(try await conn.backendPID() == pid)
    }

    @Test("a task cancelled before the statement throws .queryCanceled and runs nothing")
    func cancelledBeforehand() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("cancel_before", "id int8", on: conn) { table throws in
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await conn.query("INSERT INTO \(table) VALUES (1)")
            }
            let result = await task.result
            let error = #expect(throws: PostgresError.self) { try result.get() }
            #expect(error?.code == .queryCanceled)
            #expect(try await TestDatabase.count(table, using: conn) == 0, "the INSERT must not have run")

            // The same holds for the other entry points.
            let others = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                var codes: [PostgresError.Code?] = []
                do { _ = try await conn.pipeline([PostgresStatement("INSERT INTO \(table) VALUES (2)")]) } catch {
                    codes.append((error as? PostgresError)?.code)
                }
                do { _ = try await conn.copyFrom("COPY \(table) FROM STDIN") { try $0.write([3]) } } catch {
                    codes.append((error as? PostgresError)?.code)
                }
                do { try await conn.executeScript("INSERT INTO \(table) VALUES (4)") } catch {
                    codes.append((error as? PostgresError)?.code)
                }
                return codes
            }
            #expect(await others.value == [.queryCanceled, .queryCanceled, .queryCanceled])
            #expect(try await TestDatabase.count(table, using: conn) == 0)
        }
    }
}
