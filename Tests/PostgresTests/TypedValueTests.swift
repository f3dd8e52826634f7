import Foundation
import Postgres
import Testing

/// Timestamps, jsonb, arrays and decoding errors.
@Suite("Timestamps, jsonb, arrays and decoding errors", .timeLimit(.minutes(3)))
struct TypedValueTests {
    /// Instants with the text the server prints for them in UTC. Computed by hand, so encoder and decoder cannot
    /// agree on a shared mistake.
    static let instants: [(micros: Int64, utc: String)] = [
        (0, "1970-01-01 00:00:00"),
        (-1, "1969-12-31 23:59:59.999999"),
        (1, "1970-01-01 00:00:00.000001"),
        (-86_400_000_001, "1969-12-30 23:59:59.999999"),
        (1_234_567_890_123_456, "2009-02-13 23:31:30.123456"),
        (946_684_800_000_000, "2000-01-01 00:00:00"),
        (951_782_400_000_001, "2000-02-29 00:00:00.000001"),
        (-62_135_596_800_000_000, "0001-01-01 00:00:00"),
        (-62_135_596_799_999_999, "0001-01-01 00:00:00.000001"),
        (-62_135_596_800_000_001, "0001-12-31 23:59:59.999999 BC"),
        (253_402_300_799_999_999, "9999-12-31 23:59:59.999999"),
        (253_402_300_800_000_000, "10000-01-01 00:00:00"),
        (-210_866_803_200_000_000, "4714-11-24 00:00:00 BC"),
        (-63_517_780_799_999_999, "0044-03-15 12:00:00.000001 BC"),
        (Int64.max, "294247-01-10 04:00:54.775807"),
    ]

    @Test("PostgresTimestamp is exact to the microsecond, before 1970, in year 1, BC and far ahead",
          arguments: instants.indices)
    func timestamp(_ index: Int) async throws {
        let (micros, utc) = Self.instants[index]
        let conn = try await TestDatabase.connect()
        // The session's time zone must not matter: values travel with an explicit offset and come back in binary.
        try await conn.query("SET TIME ZONE 'America/Sao_Paulo'")
        let value = PostgresTimestamp(microsecondsSinceUnixEpoch: micros)
        let row = try await conn.query(
            "SELECT $1::timestamptz, ($1::timestamptz AT TIME ZONE 'UTC')::text", [value]
        ).single()
        #expect(try row.decode(PostgresTimestamp.self, at: 0) == value)
        #expect(try row.decode(String.self, at: 1) == utc, "the server read \(value.description)")
    }

    @Test("PostgresTimestamp prints ISO 8601 in UTC and reads the server's text form back exactly")
    func timestampText() async throws {
        let conn = try await TestDatabase.connect()
        let value = PostgresTimestamp(microsecondsSinceUnixEpoch: -1)
        #expect(value.description == "1969-12-31 23:59:59.999999+00")
        let back = try await conn.query("SELECT '1969-12-31 23:59:59.999999+00'::timestamptz").scalar(
            PostgresTimestamp.self)
        #expect(back == value)
    }

    @Test("Date round-trips to the nearest microsecond")
    func date() async throws {
        let conn = try await TestDatabase.connect()
        let dates = [
            Date(), Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_700_000_000.123_456_7),
            Date(timeIntervalSince1970: -1_000_000.000_000_4), Date(timeIntervalSince1970: 4_102_444_800.25),
        ]
        for date in dates {
            let back = try await conn.query("SELECT $1::timestamptz", [date]).scalar(Date.self)
            #expect(PostgresTimestamp(back) == PostgresTimestamp(date))
            // Rounding to the microsecond moves an instant by at most 0.5 µs; a Date is a Double of seconds since
            // 2001, so each conversion may add up to an ulp of that Double (about 0.12 µs today). The exact claim is
            // the PostgresTimestamp equality above.
            let bound = 0.000_000_5 + 2 * date.timeIntervalSinceReferenceDate.ulp
            #expect(abs(back.timeIntervalSince1970 - date.timeIntervalSince1970) <= bound, "\(date) → \(back)")
        }
    }

    struct Document: Codable, Equatable {
        var name: String
        var tags: [String]
        var nested: [String: Int]
        var flag: Bool?
    }

    @Test("jsonb: the server normalises the text, the decoded value is unchanged")
    func jsonb() async throws {
        let conn = try await TestDatabase.connect()
        let raw = JSONB("{  \"tags\" : [\"a\",\"ç\", \"🎉\"],\n \"name\":\"Olá \\\"x\\\"\", \"nested\": {\"z\": 1, \"a\": -2} }")
        let back = try await conn.query("SELECT $1", [raw]).scalar(JSONB.self)
        #expect(back.text != raw.text, "the server is expected to rewrite whitespace and key order")
        #expect(try back.decode(Document.self) == Document(name: "Olá \"x\"", tags: ["a", "ç", "🎉"],
                                                            nested: ["z": 1, "a": -2], flag: nil))
        #expect(try await conn.query("SELECT $1 -> 'nested' ->> 'a'", [raw]).scalar(String.self) == "-2")

        let doc = Document(name: "x\\y/z", tags: [], nested: [:], flag: true)
        let encoded = try JSONB(encoding: doc)
        #expect(try await conn.query("SELECT $1::jsonb", [encoded]).scalar(JSONB.self).decode(Document.self) == doc)
        #expect(try await conn.query("SELECT $1::jsonb", [encoded]).scalar(String.self).contains("\"flag\": true"))
    }

    @Test("bigint[]: empty, extremes and NULL elements")
    func bigintArrays() async throws {
        let conn = try await TestDatabase.connect()
        #expect(try await conn.query("SELECT $1", [[Int]()]).scalar([Int].self) == [])
        let extremes = [Int.min, -1, 0, 1, Int.max]
        #expect(try await conn.query("SELECT $1::int8[]", [extremes]).scalar([Int].self) == extremes)
        let withNulls: [Int?] = [nil, 1, nil, Int.max, nil]
        let row = try await conn.query(
            "SELECT $1::int8[], cardinality($1::int8[]), array_position($1::int8[], NULL)", [withNulls]
        ).single()
        #expect(try row.decode([Int?].self, at: 0) == withNulls)
        #expect(try row.decode(Int.self, at: 1) == 5)
        #expect(try row.decode(Int.self, at: 2) == 1)
    }

    @Test("text[]: empty, NULLs, and elements that look like array syntax")
    func textArrays() async throws {
        let conn = try await TestDatabase.connect()
        #expect(try await conn.query("SELECT $1::text[]", [[String]()]).scalar([String].self) == [])
        let tricky: [String?] = [
            "NULL", nil, "null", "", " padded ", "\"", "\\", "\\\"", ",", "{", "}", "{a,b}", "a,b", "'", "Olá 🎉",
            "中文", "e\u{301}", "tab\there", "line\nbreak",
        ]
        let row = try await conn.query(
            "SELECT $1::text[], ($1::text[])[1] IS NULL, ($1::text[])[2] IS NULL, cardinality($1::text[])", [tricky]
        ).single()
        let back = try row.decode([String?].self, at: 0)
        #expect(back.map { $0.map { Array($0.unicodeScalars) } } == tricky.map { $0.map { Array($0.unicodeScalars) } })
        #expect(try row.decode(Bool.self, at: 1) == false, "the text \"NULL\" is not a NULL element")
        #expect(try row.decode(Bool.self, at: 2) == true)
        #expect(try row.decode(Int.self, at: 3) == tricky.count)
        let refused = await #expect(throws: PostgresError.self) {
            try await conn.query("SELECT $1::text[]", [["ok", "bad\u{0}"]])
        }
        #expect(refused?.code == .encoding)
    }

    @Test("reading a text column as Int gives .decoding naming the column")
    func decodeWrongType() async throws {
        let conn = try await TestDatabase.connect()
        let rows = try await conn.query("SELECT 'abc'::text AS word, NULL::int8 AS missing")
        let wrong = #expect(throws: PostgresError.self) { try rows.single().decode(Int.self, named: "word") }
        #expect(wrong?.code == .decoding)
        #expect(wrong?.message.contains("word") == true)
        let null = #expect(throws: PostgresError.self) { try rows.single().decode(Int.self, at: 1) }
        #expect(null?.code == .decoding)
        #expect(null?.message.contains("missing") == true)
        #expect(try rows.single().decode(Int?.self, named: "missing") == nil)
        let absent = #expect(throws: PostgresError.self) { try rows.single().decode(String.self, named: "nope") }
        #expect(absent?.code == .decoding)
        let tooWide = try await conn.query("SELECT 3000000000::int8 AS big").single()
        let overflow = #expect(throws: PostgresError.self) { try tooWide.decode(Int32.self, at: 0) }
        #expect(overflow?.code == .decoding)
        #expect(overflow?.message.contains("big") == true)
    }
}
