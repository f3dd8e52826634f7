import Foundation
import Postgres
import Testing

@Suite("COPY FROM STDIN", .timeLimit(.minutes(3)))
struct CopyTests {
    /// The text of row `i`: every few rows something COPY's text format has to escape, or a NULL.
    static func text(_ i: Int) -> String? {
        switch i % 10 {
        case 0: return nil
        case 1: return "tab\there\tand\tthere \(i)"
        case 2: return "line\nbreak\r\nwindows \(i)"
        case 3: return "back\\slash \\N \\. \\t \\\\ \(i)"
        case 4: return "Olá ação città 🎉 中文 e\u{301} \(i)"
        case 5: return "\\N"
        case 6: return ""
        case 7: return "\\."
        case 8: return "quotes ' \" {a,b} , \(i)"
        default: return "plain \(i)"
        }
    }

    static func bytes(_ i: Int) -> Data? {
        i % 7 == 0 ? nil : Data([UInt8(i % 256), 0, 92, 9, 10, 255])
    }

    @Test("100,000 rows with escapes, NULLs and Unicode are stored exactly")
    func bulk() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("copy_bulk", "id int8 PRIMARY KEY, t text, b bytea, n int4", on: conn) { table throws in
            let total = 100_000
            let copied = try await conn.copyFrom("COPY \(table) (id, t, b, n) FROM STDIN") { writer in
                for i in 0..<total {
                    try writer.write([i, Self.text(i), Self.bytes(i), i % 3 == 0 ? Int32?.none : Int32(i)])
                }
                #expect(writer.rowsWritten == total)
            }
            #expect(copied == total)
            #expect(try await TestDatabase.count(table) == total)
            #expect(try await conn.query("SELECT count(t), count(b), count(n) FROM \(table)").single().decode(
                Int.self, at: 0) == total - total / 10)

            // Every row, read back and compared byte for byte.
            let rows = try await conn.query("SELECT id, t, b, n FROM \(table) ORDER BY id")
            #expect(rows.count == total)
            var mismatches = 0
            for row in rows {
                let i = try row.decode(Int.self, at: 0)
                if i % 5_000 == 0 { await Task.yield() }  // a long loop; leave the pool to the other tests
                let t = try row.decode(String?.self, at: 1)
                let b = try row.decode(Data?.self, at: 2)
                let n = try row.decode(Int32?.self, at: 3)
                if t.map({ Array($0.utf8) }) != Self.text(i).map({ Array($0.utf8) }) || b != Self.bytes(i)
                    || n != (i % 3 == 0 ? nil : Int32(i))
                {
                    if mismatches < 5 { Issue.record("row \(i) differs: \(String(describing: t))") }
                    mismatches += 1
                }
            }
            #expect(mismatches == 0)

            // A sample checked by the server itself, so the decoder is not the only judge.
            for i in [1, 2, 3, 4, 5, 7] {
                let expected = try #require(Self.text(i))
                let same = try await conn.query("SELECT t = $1 FROM \(table) WHERE id = $2", [expected, i])
                    .scalar(Bool.self)
                #expect(same, "row \(i)")
            }
            #expect(try await conn.query("SELECT t IS NULL FROM \(table) WHERE id = 10").scalar(Bool.self))
            #expect(try await conn.query("SELECT t = '\\N' FROM \(table) WHERE id = 5").scalar(Bool.self))
        }
    }

    @Test("a body that throws stores nothing, and the caller gets the body's error")
    func throwingBody() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("copy_throw", "id int8, t text", on: conn) { table throws in
            await #expect(throws: ExpectedFailure()) {
                try await conn.copyFrom("COPY \(table) FROM STDIN") { writer in
                    for i in 0..<50_000 { try writer.write([i, "row \(i)"]) }  // past the first flush
                    throw ExpectedFailure()
                }
            }
            #expect(try await TestDatabase.count(table, using: conn) == 0)
            // A value that cannot be encoded aborts the copy the same way.
            let encoding = await #expect(throws: PostgresError.self) {
                try await conn.copyFrom("COPY \(table) FROM STDIN") { writer in
                    try writer.write([1, "fine"])
                    try writer.write([2, "nul \u{0} inside"])
                }
            }
            #expect(encoding?.code == .encoding)
            #expect(try await TestDatabase.count(table, using: conn) == 0)
            // The connection is still good for another COPY.
            #expect(try await conn.copyFrom("COPY \(table) FROM STDIN") { try $0.write([3, "ok"]) } == 1)
            #expect(try await TestDatabase.count(table) == 1)
        }
    }

    @Test("a row the server rejects stores nothing and gives .server with SQLSTATE 22P02")
    func rejectedRow() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("copy_reject", "id int8, n int4", on: conn) { table throws in
            let error = await #expect(throws: PostgresError.self) {
                try await conn.copyFrom("COPY \(table) (id, n) FROM STDIN") { writer in
                    for i in 0..<30_000 { try writer.write([i, Int32(i)]) }
                    try writer.write([30_000, "not a number"])
                    for i in 30_001..<60_000 { try writer.write([i, Int32(i)]) }
                }
            }
            #expect(error?.code == .server)
            #expect(error?.sqlState == "22P02")
            #expect(error?.description.contains("not a number") == true || error?.description.contains("integer") == true)
            #expect(try await TestDatabase.count(table, using: conn) == 0)
            #expect(try await TestDatabase.count(table) == 0)
            #expect(try await conn.query("SELECT 1::int4").scalar(Int.self) == 1)
        }
    }

    @Test("copyFrom with a statement that is not COPY FROM STDIN is refused")
    func notACopy() async throws {
        let conn = try await TestDatabase.connect()
        let error = await #expect(throws: PostgresError.self) {
            try await conn.copyFrom("SELECT 1") { try $0.write([1]) }
        }
        #expect(error?.code == .misuse)
        let missing = await #expect(throws: PostgresError.self) {
            try await conn.copyFrom("COPY \(TestDatabase.uniqueName("nosuch")) FROM STDIN") { try $0.write([1]) }
        }
        #expect(missing?.sqlState == PostgresError.SQLState.undefinedTable)
        #expect(try await conn.query("SELECT 1::int4").scalar(Int.self) == 1)
    }

    @Test("a COPY sent through query() is refused with .misuse and leaves every entry point usable",
          arguments: ["COPY (SELECT 1) TO STDOUT", "COPY %@ FROM STDIN"])
    func copyThroughQuery(_ statement: String) async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("copy_query", "id int8", on: conn) { table throws in
            let sql = statement.replacingOccurrences(of: "%@", with: table)
            let refused = await #expect(throws: PostgresError.self) { try await conn.query(sql) }
            #expect(refused?.code == .misuse)
            let piped = await attempt { try await conn.pipeline([PostgresStatement("INSERT INTO \(table) VALUES (1)")]) }
            switch piped {
            case .success(let results):
                #expect(results.count == 1)
                #expect(try await conn.query("SELECT count(*) FROM \(table)").scalar(Int.self) == 1)
            case .failure(let error):
                Issue.record(error, "a pipeline after the refused COPY failed")
                // Get the session out of the COPY the refusal left open, so that the test can go on and clean up
                // (an open COPY FROM holds a lock on the table).
                _ = try? await conn.query("SELECT 1")
            }
            let refusedAgain = await #expect(throws: PostgresError.self) { try await conn.query(sql) }
            #expect(refusedAgain?.code == .misuse)
            #expect(try await conn.copyFrom("COPY \(table) FROM STDIN") { try $0.write([2]) } == 1)
        }
    }
}
