import Foundation
import Postgres
import Testing

@Suite("Pipelines", .timeLimit(.minutes(3)))
struct PipelineTests {
    @Test("1,000 INSERTs in one pipeline are all stored and their results come back in order",
          arguments: [false, true])
    func thousandInserts(prepared: Bool) async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("pipe_many", "id int8 PRIMARY KEY, t text", on: conn) { table throws in
            // Ids in a scrambled order, so "in order" means the statements' order, not the ids' order.
            let ids = (0..<1_000).map { ($0 * 7_919) % 1_000 + 1 }
            let statements = ids.map {
                PostgresStatement("INSERT INTO \(table) (id, t) VALUES ($1, $2) RETURNING id, t", [$0, "row \($0) ç"])
            }
            let results = try await conn.pipeline(statements, prepared: prepared)
            #expect(results.count == 1_000)
            let returned = try results.map { try $0.single().decode(Int.self, at: 0) }
            #expect(returned == ids)
            #expect(try results.map { try $0.single().decode(String.self, at: 1) } == ids.map { "row \($0) ç" })
            #expect(results.allSatisfy { $0.commandTag == "INSERT 0 1" })
            #expect(try await TestDatabase.count(table) == 1_000)
            // The connection is back to normal (out of pipeline mode, blocking) afterwards.
            #expect(try await conn.query("SELECT max(id) FROM \(table)").scalar(Int.self) == 1_000)
        }
    }

    @Test("a pipeline whose 3rd statement fails stores nothing and names statement 3")
    func failureRollsBackAll() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("pipe_fail", "id int8 PRIMARY KEY, n int4", on: conn) { table throws in
            let insert = "INSERT INTO \(table) (id, n) VALUES ($1, $2::text::int4)"
            let statements = [
                PostgresStatement(insert, [1, "1"]),
                PostgresStatement(insert, [2, "2"]),
                PostgresStatement(insert, [3, "three"]),
                PostgresStatement(insert, [4, "4"]),
                PostgresStatement("SELECT count(*) FROM \(table)"),
            ]
            let error = await #expect(throws: PostgresError.self) { try await conn.pipeline(statements) }
            #expect(error?.code == .server)
            #expect(error?.sqlState == "22P02")
            #expect(error?.message.contains("Statement 3 of 5") == true, "message: \(error?.message ?? "")")
            #expect(error?.description.contains("Statement 3") == true)
            #expect(try await TestDatabase.count(table, using: conn) == 0)
            #expect(try await TestDatabase.count(table) == 0)

            // The connection works normally afterwards, for a query and for another pipeline.
            #expect(try await conn.query("SELECT 1::int4").scalar(Int.self) == 1)
            let again = try await conn.pipeline(Array(statements[0...1]) + [statements[3], statements[4]])
            #expect(try again[3].scalar(Int.self) == 3)
        }
    }

    @Test("a failing first or last statement is named too", arguments: [1, 4])
    func failurePosition(_ position: Int) async throws {
        let conn = try await TestDatabase.connect()
        var statements = (1...4).map { PostgresStatement("SELECT $1::int8", [$0]) }
        statements[position - 1] = PostgresStatement("SELECT 1 / $1::int8", [0])
        let error = await #expect(throws: PostgresError.self) { try await conn.pipeline(statements) }
        #expect(error?.sqlState == "22012")
        #expect(error?.message.contains("Statement \(position) of 4") == true, "message: \(error?.message ?? "")")
    }

    @Test("a statement the server cannot parse or plan is named as well", arguments: [false, true])
    func planFailureNamed(prepared: Bool) async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("pipe_plan", "id int8", on: conn) { table throws in
            let insert = "INSERT INTO \(table) VALUES ($1)"
            let statements = [
                PostgresStatement(insert, [1]), PostgresStatement(insert, [2]),
                PostgresStatement("SELECT no_such_column FROM \(table)"), PostgresStatement(insert, [4]),
            ]
            let error = await #expect(throws: PostgresError.self) {
                try await conn.pipeline(statements, prepared: prepared)
            }
            #expect(error?.sqlState == "42703")
            #expect(error?.message.contains("Statement 3 of 4") == true, "message: \(error?.message ?? "")")
            #expect(try await TestDatabase.count(table, using: conn) == 0)
        }
    }

    @Test("prepared: true works twice on the same connection and alongside query(prepared:)")
    func preparedTwice() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("pipe_prep", "id int8 PRIMARY KEY", on: conn) { table throws in
            let insert = "INSERT INTO \(table) VALUES ($1) RETURNING id"
            let countSQL = "SELECT count(*) FROM \(table)"
            let first = try await conn.pipeline(
                [PostgresStatement(insert, [1]), PostgresStatement(insert, [2]), PostgresStatement(countSQL)],
                prepared: true)
            #expect(try first[2].scalar(Int.self) == 2)
            let second = try await conn.pipeline(
                [PostgresStatement(insert, [3]), PostgresStatement(countSQL), PostgresStatement(insert, [4])],
                prepared: true)
            #expect(try second[0].scalar(Int.self) == 3)
            #expect(try second[1].scalar(Int.self) == 3)
            #expect(try second[2].scalar(Int.self) == 4)
            #expect(try await conn.query(insert, [5], prepared: true).scalar(Int.self) == 5)
            #expect(try await conn.query(countSQL, prepared: true).scalar(Int.self) == 5)
            let statements = try await conn.query(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement IN ($1, $2)", [insert, countSQL]
            ).scalar(Int.self)
            #expect(statements == 2, "each SQL text is prepared once per connection")
        }
    }

    @Test("an empty pipeline returns no results")
    func empty() async throws {
        let conn = try await TestDatabase.connect()
        #expect(try await conn.pipeline([]).isEmpty)
        #expect(try await conn.pipeline([], prepared: true).isEmpty)
        #expect(try await conn.query("SELECT 1::int4").scalar(Int.self) == 1)
    }

    @Test("statements without rows give empty results with their command tags")
    func commandTags() async throws {
        let conn = try await TestDatabase.connect()
        let results = try await conn.pipeline([
            PostgresStatement("SELECT $1::text AS a", ["x"]),
            PostgresStatement("SET statement_timeout = '5s'"),
            PostgresStatement("SELECT $1::text WHERE false", ["y"]),
        ])
        #expect(results.count == 3)
        #expect(try results[0].scalar(String.self) == "x")
        #expect(results[1].isEmpty)
        #expect(results[1].commandTag == "SET")
        #expect(results[2].isEmpty)
        #expect(results[2].commandTag == "SELECT 0")
    }

    @Test("a pipeline inside a transaction joins it and rolls back with it")
    func insideTransaction() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("pipe_tx", "id int8", on: conn) { table throws in
            await #expect(throws: ExpectedFailure()) {
                try await conn.withTransaction { tx in
                    _ = try await tx.pipeline((1...3).map { PostgresStatement("INSERT INTO \(table) VALUES ($1)", [$0]) })
                    #expect(try await tx.query("SELECT count(*) FROM \(table)").scalar(Int.self) == 3)
                    throw ExpectedFailure()
                }
            }
            #expect(try await TestDatabase.count(table, using: conn) == 0)
        }
    }
}
