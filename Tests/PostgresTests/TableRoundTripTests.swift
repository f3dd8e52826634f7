import Foundation
import Postgres
import Testing

/// Values stored in a table with a column of each type, then read back by column name.
@Suite("Round trips through a table", .timeLimit(.minutes(3)))
struct TableRoundTripTests {
    static let columns = """
        id int8 PRIMARY KEY, t text, b bytea, i8 int8, i4 int4, i2 int2, bo bool, f8 float8, ts timestamptz,
        j jsonb, ai int8[], at text[], u uuid, n numeric
        """
    static let insert = """
        INSERT INTO %@ (id, t, b, i8, i4, i2, bo, f8, ts, j, ai, at, u, n)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::numeric)
        """

    @Test("every column type keeps its value")
    func everyType() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("roundtrip", Self.columns, on: conn) { table throws in
            let sql = Self.insert.replacingOccurrences(of: "%@", with: table)
            let text = "Olá, città! 🎉 中文 e\u{301} '\"\\{},"
            let bytes = Data((0...255).map { UInt8($0) })
            let when = PostgresTimestamp(microsecondsSinceUnixEpoch: -62_135_596_799_999_999)
            let uuid = UUID()
            let json = JSONB("{\"b\": [1, 2], \"a\": \"ç\"}")
            let texts: [String?] = ["NULL", nil, "a,b", "{x}", "\"q\"", "\\", "🎉"]
            try await conn.query(sql, [
                1, text, bytes, Int64.min, Int32.max, Int16.min, true, -0.0, when, json, [Int.max, 0, -1] as [Int],
                texts, uuid, "-12345.678900",
            ])
            let row = try await conn.query("SELECT * FROM \(table) WHERE id = 1").single()
            #expect(Array(try row.decode(String.self, named: "t").utf8) == Array(text.utf8))
            #expect(try row.decode(Data.self, named: "b") == bytes)
            #expect(try row.decode(Int64.self, named: "i8") == .min)
            #expect(try row.decode(Int32.self, named: "i4") == .max)
            #expect(try row.decode(Int.self, named: "i2") == Int(Int16.min))
            #expect(try row.decode(Bool.self, named: "bo") == true)
            #expect(try row.decode(Double.self, named: "f8").bitPattern == (-0.0).bitPattern)
            #expect(try row.decode(PostgresTimestamp.self, named: "ts") == when)
            #expect(try row.decode(JSONB.self, named: "j").decode([String: JSONValue].self)
                == ["a": .string("ç"), "b": .array([.number(1), .number(2)])])
            #expect(try row.decode([Int].self, named: "ai") == [Int.max, 0, -1])
            #expect(try row.decode([String?].self, named: "at") == texts)
            #expect(try row.decode(UUID.self, named: "u") == uuid)
            #expect(try row.decode(String.self, named: "n") == "-12345.678900")
        }
    }

    @Test("a row of typed NULLs reads back as nil in every column")
    func allNulls() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("roundtrip_null", Self.columns, on: conn) { table throws in
            let sql = Self.insert.replacingOccurrences(of: "%@", with: table)
            try await conn.query(sql, [
                2, String?.none, Data?.none, Int64?.none, Int32?.none, Int16?.none, Bool?.none, Double?.none,
                PostgresTimestamp?.none, JSONB?.none, [Int]?.none, [String]?.none, UUID?.none, String?.none,
            ])
            let row = try await conn.query("SELECT * FROM \(table)").single()
            let nullCount = try await conn.query(
                "SELECT num_nulls(t, b, i8, i4, i2, bo, f8, ts, j, ai, at, u, n) FROM \(table)"
            ).scalar(Int.self)
            #expect(nullCount == 13)
            #expect(try row.decode(String?.self, named: "t") == nil)
            #expect(try row.decode(Data?.self, named: "b") == nil)
            #expect(try row.decode(Int64?.self, named: "i8") == nil)
            #expect(try row.decode(Int32?.self, named: "i4") == nil)
            #expect(try row.decode(Int?.self, named: "i2") == nil)
            #expect(try row.decode(Bool?.self, named: "bo") == nil)
            #expect(try row.decode(Double?.self, named: "f8") == nil)
            #expect(try row.decode(PostgresTimestamp?.self, named: "ts") == nil)
            #expect(try row.decode(JSONB?.self, named: "j") == nil)
            #expect(try row.decode([Int]?.self, named: "ai") == nil)
            #expect(try row.decode([String?]?.self, named: "at") == nil)
            #expect(try row.decode(UUID?.self, named: "u") == nil)
            #expect(try row.decode(String?.self, named: "n") == nil)
            let error = #expect(throws: PostgresError.self) { try row.decode(String.self, named: "t") }
            #expect(error?.code == .decoding)
            #expect(error?.message.contains("\"t\"") == true)
        }
    }

    @Test("empty values are not NULLs: '', empty bytea, empty arrays")
    func emptyValues() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("roundtrip_empty", Self.columns, on: conn) { table throws in
            try await conn.query(
                "INSERT INTO \(table) (id, t, b, ai, at) VALUES (3, $1, $2, $3, $4)", ["", Data(), [Int](), [String]()])
            let row = try await conn.query("SELECT t, b, ai, at, num_nulls(t, b, ai, at) FROM \(table)").single()
            #expect(try row.decode(String?.self, at: 0) == "")
            #expect(try row.decode(Data?.self, at: 1) == Data())
            #expect(try row.decode([Int]?.self, at: 2) == [])
            #expect(try row.decode([String]?.self, at: 3) == [])
            #expect(try row.decode(Int.self, at: 4) == 0)
        }
    }

    @Test("a text with NUL gives .encoding and stores nothing")
    func nulStoresNothing() async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("roundtrip_nul", "id int8, t text", on: conn) { table throws in
            let error = await #expect(throws: PostgresError.self) {
                try await conn.query("INSERT INTO \(table) VALUES ($1, $2)", [1, "abc\u{0}def"])
            }
            #expect(error?.code == .encoding)
            #expect(error?.message.contains("$2") == true)
            #expect(try await TestDatabase.count(table, using: conn) == 0)
            // The refused value did not break the connection.
            try await conn.query("INSERT INTO \(table) VALUES ($1, $2)", [2, "abc"])
            #expect(try await TestDatabase.count(table, using: conn) == 1)
        }
    }

    @Test("a long Unicode text survives storage", arguments: [1, 100_000])
    func longText(_ size: Int) async throws {
        let conn = try await TestDatabase.connect()
        try await TestDatabase.withTable("roundtrip_long", "t text", on: conn) { table throws in
            let unit = "Olá ciao 🎉 漢 e\u{301}\\\"{},\n"
            let value = String(repeating: unit, count: max(1, size / unit.utf8.count + 1))
            try await conn.query("INSERT INTO \(table) VALUES ($1)", [value])
            let back = try await conn.query("SELECT t FROM \(table)").scalar(String.self)
            #expect(Array(back.utf8) == Array(value.utf8))
        }
    }
}

/// Enough of JSON to compare decoded jsonb values structurally.
enum JSONValue: Codable, Equatable {
    case string(String), number(Double), bool(Bool), null, array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
