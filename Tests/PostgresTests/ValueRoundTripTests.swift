import Foundation
import Postgres
import Testing

/// Values sent as parameters and read back through `SELECT $1`: what goes out must come back bit for bit.
@Suite("Parameter round trips through SELECT $1", .timeLimit(.minutes(3)))
struct ValueRoundTripTests {
    static let texts: [String] = [
        "",
        "Olá, coração! Ação, pão, avó — “aspas”",
        "Perché così? Città, più, caffè",
        "emoji 🎉👩‍👩‍👧‍👦🇧🇷 and a lone 🐘",
        "中文 日本語のテキスト 한국어",
        "e\u{301} a\u{300}\u{328} Z\u{35C}\u{361}",  // combining marks, not normalised
        "quotes ' \" `, backslashes \\ \\\\ \\N, braces {} {a,b}, commas ,,, dollars $1 $$",
        "tab\tnewline\ncarriage\rreturn",
        "NULL",
    ]

    @Test("Unicode and special-character text comes back byte for byte", arguments: texts)
    func text(_ value: String) async throws {
        let conn = try await TestDatabase.connect()
        let back = try await conn.query("SELECT $1::text", [value]).scalar(String.self)
        #expect(Array(back.utf8) == Array(value.utf8))
        // The server sees the same characters (not a re-encoded or truncated string).
        let length = try await conn.query("SELECT length($1::text)", [value]).scalar(Int.self)
        #expect(length == value.unicodeScalars.count)
    }

    @Test("a 100 KB string comes back whole")
    func largeText() async throws {
        let conn = try await TestDatabase.connect()
        let value = String(repeating: "ação ✓ 漢字 🎉 \\ \"x\" {a,b}\n", count: 4_000)
        #expect(value.utf8.count > 100_000)
        let back = try await conn.query("SELECT $1::text", [value]).scalar(String.self)
        #expect(back.utf8.count == value.utf8.count)
        #expect(Array(back.utf8) == Array(value.utf8))
    }

    @Test("a text containing NUL is refused with .encoding before it is sent")
    func nulText() async throws {
        let conn = try await TestDatabase.connect()
        let error = await #expect(throws: PostgresError.self) {
            try await conn.query("SELECT $1::text", ["before\u{0}after"])
        }
        #expect(error?.code == .encoding)
        #expect(error?.message.contains("$1") == true, "the error names the parameter")
        #expect(try await conn.query("SELECT 1::int4").scalar(Int.self) == 1)
    }

    @Test("typed NULLs of several types come back as nil")
    func nulls() async throws {
        let conn = try await TestDatabase.connect()
        let row = try await conn.query(
            "SELECT $1::text, $2::int8, $3::bool, $4::float8, $5::bytea, $6::uuid, $7::timestamptz, $8::jsonb, $9::text",
            [String?.none, Int?.none, Bool?.none, Double?.none, Data?.none, UUID?.none, PostgresTimestamp?.none,
             JSONB?.none, PostgresNull()]
        ).single()
        #expect(try row.decode(String?.self, at: 0) == nil)
        #expect(try row.decode(Int?.self, at: 1) == nil)
        #expect(try row.decode(Bool?.self, at: 2) == nil)
        #expect(try row.decode(Double?.self, at: 3) == nil)
        #expect(try row.decode(Data?.self, at: 4) == nil)
        #expect(try row.decode(UUID?.self, at: 5) == nil)
        #expect(try row.decode(PostgresTimestamp?.self, at: 6) == nil)
        #expect(try row.decode(JSONB?.self, at: 7) == nil)
        #expect(try row.decode(String?.self, at: 8) == nil)
        // A NULL is not an empty string.
        #expect(try await conn.query("SELECT $1::text IS NULL, $2::text IS NULL", [String?.none, ""]).single()
            .decode(Bool.self, at: 0))
        #expect(try await conn.query("SELECT $1::text", [""]).scalar(String?.self) == "")
    }

    @Test("bytea: all 256 byte values, and the empty value")
    func bytea() async throws {
        let conn = try await TestDatabase.connect()
        let all = Data((0...255).map { UInt8($0) } + (0...255).reversed().map { UInt8($0) })
        #expect(try await conn.query("SELECT $1::bytea", [all]).scalar(Data.self) == all)
        #expect(try await conn.query("SELECT length($1::bytea)", [all]).scalar(Int.self) == 512)
        let empty = try await conn.query("SELECT $1::bytea", [Data()]).scalar(Data?.self)
        #expect(empty == Data())
    }

    @Test("integers at their extremes", arguments: [Int64.min, Int64.min + 1, -1, 0, 1, Int64.max - 1, Int64.max])
    func int64(_ value: Int64) async throws {
        let conn = try await TestDatabase.connect()
        #expect(try await conn.query("SELECT $1", [value]).scalar(Int64.self) == value)
        #expect(try await conn.query("SELECT $1::int8", [Int(value)]).scalar(Int.self) == Int(value))
        #expect(try await conn.query("SELECT $1::text", [value]).scalar(String.self) == String(value))
    }

    @Test("Int32 and Int16 keep their width and their extremes")
    func narrowIntegers() async throws {
        let conn = try await TestDatabase.connect()
        for value: Int32 in [.min, -1, 0, 1, .max] {
            let rows = try await conn.query("SELECT $1, pg_typeof($1)::text", [value])
            #expect(try rows.single().decode(Int32.self, at: 0) == value)
            #expect(try rows.single().decode(String.self, at: 1) == "integer")
        }
        for value: Int16 in [.min, -1, 0, 1, .max] {
            let rows = try await conn.query("SELECT $1, pg_typeof($1)::text", [value])
            #expect(try rows.single().decode(Int.self, at: 0) == Int(value))
            #expect(try rows.single().decode(String.self, at: 1) == "smallint")
        }
    }

    @Test("Bool")
    func bool() async throws {
        let conn = try await TestDatabase.connect()
        let row = try await conn.query("SELECT $1, $2, $1::text", [true, false]).single()
        #expect(try row.decode(Bool.self, at: 0) == true)
        #expect(try row.decode(Bool.self, at: 1) == false)
        #expect(try row.decode(String.self, at: 2) == "true")
    }

    static let doubles: [Double] = [
        0, -0.0, 0.1, -0.1, 1.0 / 3, 1e-300, -1e-300, 1e300, .pi, 123_456_789.123_456_78,
        .leastNonzeroMagnitude, .leastNormalMagnitude, .leastNormalMagnitude / 3, .greatestFiniteMagnitude,
        -.greatestFiniteMagnitude, .infinity, -.infinity, .ulpOfOne,
    ]

    @Test("Double keeps every bit, including specials, denormals and negative zero", arguments: doubles)
    func double(_ value: Double) async throws {
        let conn = try await TestDatabase.connect()
        let back = try await conn.query("SELECT $1::float8", [value]).scalar(Double.self)
        #expect(back.bitPattern == value.bitPattern, "sent \(value), got \(back)")
    }

    @Test("Double NaN")
    func doubleNaN() async throws {
        let conn = try await TestDatabase.connect()
        let row = try await conn.query("SELECT $1::float8, $1::float8 = 'NaN'::float8", [Double.nan]).single()
        #expect(try row.decode(Double.self, at: 0).isNaN)
        #expect(try row.decode(Bool.self, at: 1))
    }

    @Test("UUID")
    func uuid() async throws {
        let conn = try await TestDatabase.connect()
        let value = UUID()
        let row = try await conn.query("SELECT $1, $1::text", [value]).single()
        #expect(try row.decode(UUID.self, at: 0) == value)
        #expect(try row.decode(String.self, at: 1) == value.uuidString.lowercased())
        let fixed = try #require(UUID(uuidString: "00000000-0000-0000-0000-000000000000"))
        #expect(try await conn.query("SELECT $1::uuid", [fixed]).scalar(UUID.self) == fixed)
    }

    @Test("numeric is read as exact decimal text", arguments: [
        "-12345.678900", "0.0001", "100000000", "NaN", "0", "0.00001", "-0.5", "12345678901234567890.0123456789",
        "1.10", "99999999.99990000", "0.000000001", "-1000",
    ])
    func numeric(_ text: String) async throws {
        let conn = try await TestDatabase.connect()
        #expect(try await conn.query("SELECT $1::numeric", [text]).scalar(String.self) == text)
    }
}
