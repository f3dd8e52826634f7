import Foundation
import Postgres
import Testing

@testable import CicloImport

@Suite("import parsers: RFC 3339 times, JSON Lines and CSV line numbers")
struct ParserTests {
    func micros(_ text: String) -> Int64? { RFC3339.timestamp(text)?.microsecondsSinceUnixEpoch }

    @Test("RFC 3339 times with Z, offsets, fractions and a space are read to the microsecond")
    func goodTimes() {
        #expect(micros("1970-01-01T00:00:00Z") == 0)
        #expect(micros("2026-03-01T09:30:00Z") == 1_772_357_400_000_000)
        #expect(micros("2026-03-01T10:30:00+01:00") == 1_772_357_400_000_000)
        #expect(micros("2026-03-01t09:30:00z") == 1_772_357_400_000_000)
        #expect(micros("2026-03-01 04:00:00-05:30") == 1_772_357_400_000_000)
        #expect(micros("2026-03-01T09:30:00.123456Z") == 1_772_357_400_123_456)
        #expect(micros("2026-03-01T09:30:00.1234565Z") == 1_772_357_400_123_457, "the 7th digit rounds")
        #expect(micros("2024-02-29T00:00:00Z") == 1_709_164_800_000_000, "a leap day")
        #expect(micros("1969-12-31T23:59:59Z") == -1_000_000)
    }

    @Test(
        "anything else is refused, so the server never sees a time it would reject",
        arguments: [
            "", "2026-03-01", "2026-03-01T09:30:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
            "2025-02-29T00:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T09:60:00Z", "2026-03-01T09:30:00.Z",
            "2026-03-01T09:30:00+0100", "2026-03-01T09:30:00+01:00x", "0000-01-01T00:00:00Z", "yesterday",
            "2026-3-1T09:30:00Z",
        ])
    func badTimes(_ text: String) {
        #expect(RFC3339.timestamp(text) == nil)
    }

    @Test("dates for date attributes: YYYY-MM-DD or an RFC 3339 time")
    func dates() {
        #expect(RFC3339.isDateOrTimestamp("2026-02-28"))
        #expect(RFC3339.isDateOrTimestamp("2026-02-28T10:00:00Z"))
        #expect(!RFC3339.isDateOrTimestamp("2026-02-30"))
        #expect(!RFC3339.isDateOrTimestamp("28/02/2026"))
    }

    func scratch(_ data: Data) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("parser-\(UUID().uuidString)")
        try data.write(to: url)
        return url.path
    }

    func lines(_ path: String) throws -> [String] {
        var reader = try JSONLinesReader(path: path)
        var out: [String] = []
        while let line = try reader.next() {
            switch line {
            case .text(let n, let data): out.append("\(n):\(String(decoding: data, as: UTF8.self))")
            case .tooLong(let n): out.append("\(n):too long")
            }
        }
        return out
    }

    @Test("JSON Lines: numbered from 1, blank lines skipped but counted, CRLF and a byte order mark stripped")
    func jsonLines() throws {
        let path = try scratch(Data([0xEF, 0xBB, 0xBF]) + Data("{\"a\":1}\r\n\n  \n{\"b\":2}\n{\"c\":3}".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try lines(path) == ["1:{\"a\":1}", "4:{\"b\":2}", "5:{\"c\":3}"])
    }

    @Test("JSON Lines: lines across chunk boundaries come out whole, and a line past the limit is skipped")
    func jsonLinesChunks() throws {
        let long = String(repeating: "x", count: JSONLinesReader.chunkSize + 10)
        let huge = String(repeating: "y", count: JSONLinesReader.maxLineBytes + 5)
        let path = try scratch(Data("\(long)\n\(huge)\nshort\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let seen = try lines(path)
        #expect(seen.map { $0.prefix(12) } == ["1:xxxxxxxxxx", "2:too long", "3:short"])
        #expect(seen.first?.count == long.count + 2)
    }

    @Test("CSV: a record's line counts the line breaks inside quoted fields before it")
    func csvLines() throws {
        let path = try scratch(Data("a,b\r\n1,\"x\r\ny\"\n\n2,\"p\nq\nr\"\n3,z".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var rows = try CSVRows(path: path)
        #expect(rows.header == ["a", "b"])
        var seen: [String] = []
        while let (line, fields) = try rows.next() { seen.append("\(line):\(fields[0])") }
        #expect(seen == ["2:1", "5:2", "8:3"])
    }

    @Test("CSV: bytes that are not UTF-8 fail the file rather than cut it short")
    func csvNotUTF8() throws {
        let path = try scratch(Data("a,b\n1,2\n3,".utf8) + Data([0xFF, 0xFE, 0x41]) + Data("\n4,5\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var rows = try CSVRows(path: path)
        #expect(throws: ImportError.self) {
            while try rows.next() != nil {}
        }
    }
}

@Suite("JSON text for jsonb columns")
struct JSONTextTests {
    @Test("values read by JSONSerialization are written back equal: escapes, booleans, integers, doubles, nesting")
    func roundTrip() throws {
        let source = #"""
            {"s": "q\"b\\s\n\t\u0001é€😀", "t": true, "f": false, "one": 1, "big": 12345678901234567890,
             "neg": -42, "d": 0.1, "e": 1e300, "z": -0.0, "n": null, "a": [1, "x", [true, {}], null], "o": {"k": {"l": []}}}
            """#
        let object = try JSONValue.object(Data(source.utf8))
        let written = try JSONText.text(object)
        let reread = try JSONValue.object(Data(written.utf8))
        #expect(NSDictionary(dictionary: reread) == NSDictionary(dictionary: object), "\(written)")
        #expect(written.contains(#""t":true"#) && written.contains(#""one":1"#), "booleans stay booleans: \(written)")
        #expect(written.contains(#""big":12345678901234567890"#) && written.contains(#""d":0.1"#))
        #expect(written.contains(#"\u0001"#))
    }

    @Test("attribute values built from CSV cells are written as their JSON types")
    func csvValues() throws {
        let values: [String: Any] = [
            "n": NSNumber(value: Int64(7)), "x": NSNumber(value: 1.5), "b": NSNumber(value: true),
            "l": ["a", "b"], "s": "text",
        ]
        let reread = try JSONValue.object(Data(try JSONText.text(values).utf8))
        #expect(JSONValue.number(reread["n"]!)?.int64Value == 7)
        #expect(JSONValue.number(reread["x"]!)?.doubleValue == 1.5)
        #expect(JSONValue.bool(reread["b"]!) == true)
        #expect(reread["l"] as? [String] == ["a", "b"] && reread["s"] as? String == "text")
    }

    @Test("trimming takes spaces and tabs from both ends only")
    func trimming() {
        #expect(" \ta b\t ".trimmedASCII == "a b")
        #expect("ab".trimmedASCII == "ab")
        #expect("   ".trimmedASCII == "")
        #expect("".trimmedASCII == "")
        #expect(" é ".trimmedASCII == "é")
    }
}
