import Foundation
import Postgres
import Testing

@Suite("Statements and errors")
struct QueryTests {
    @Test("a trivial SELECT returns its value")
    func selectOne() async throws {
        let conn = try await TestDatabase.connect()
        let rows = try await conn.query("SELECT $1::int8 + 1 AS n", [41])
        #expect(try rows.scalar(Int.self) == 42)
        #expect(rows.columns.map(\.name) == ["n"])
    }

    @Test("a syntax error carries SQLSTATE 42601 and the server's message")
    func syntaxError() async throws {
        let conn = try await TestDatabase.connect()
        let error = await #expect(throws: PostgresError.self) { try await conn.query("SELEC 1") }
        #expect(error?.sqlState == "42601")
        #expect(error?.code == .server)
        #expect(error?.message.contains("syntax error at or near \"SELEC\"") == true)
        #expect(error?.statement == "SELEC 1")
        #expect(error?.description.contains("SELEC 1") == false, "the statement stays out of the user-facing text")
        #expect(error?.debugDescription.contains("statement: SELEC 1") == true)
        // The connection is still usable after a statement error.
        #expect(try await conn.query("SELECT 1::int4").scalar(Int.self) == 1)
    }

    @Test("a duplicate key gives 23505 with the detail kept for debugging")
    func duplicateKey() async throws {
        let conn = try await TestDatabase.connect()
        let table = TestDatabase.uniqueName("dup")
        try await conn.query("CREATE TABLE \(table) (id int8 PRIMARY KEY)")
        defer { Task { try? await conn.query("DROP TABLE \(table)") } }
        try await conn.query("INSERT INTO \(table) VALUES ($1)", [7])
        let error = await #expect(throws: PostgresError.self) {
            try await conn.query("INSERT INTO \(table) VALUES ($1)", [7])
        }
        #expect(error?.sqlState == PostgresError.SQLState.uniqueViolation)
        #expect(error?.detail == "Key (id)=(7) already exists.")
        #expect(error?.description.contains("(7)") == false, "row values stay out of the user-facing text")
    }
}
