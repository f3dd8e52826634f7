import Foundation

/// A `timestamptz` at PostgreSQL's own precision: whole microseconds since the Unix epoch.
///
/// `Date` holds a `Double`, which cannot keep every microsecond of every instant; this type round-trips exactly.
public struct PostgresTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var microsecondsSinceUnixEpoch: Int64

    public init(microsecondsSinceUnixEpoch: Int64) {
        self.microsecondsSinceUnixEpoch = microsecondsSinceUnixEpoch
    }

    /// The instant rounded to the nearest microsecond.
    public init(_ date: Date) {
        self.microsecondsSinceUnixEpoch = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    public var date: Date { Date(timeIntervalSince1970: Double(microsecondsSinceUnixEpoch) / 1_000_000) }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.microsecondsSinceUnixEpoch < rhs.microsecondsSinceUnixEpoch
    }

    /// ISO 8601 in UTC with microseconds, e.g. `2026-11-22 20:41:00.123456+00`.
    public var description: String { postgresText() ?? "" }

    /// Microseconds between the Unix epoch and PostgreSQL's epoch, 2000-01-01 00:00 UTC.
    static let postgresEpochOffset: Int64 = 946_684_800_000_000

    /// Civil UTC date and time; days are converted with the proleptic Gregorian calendar (H. Hinnant's algorithm),
    /// which avoids locale- and DateFormatter-dependent output.
    func civil() -> (year: Int64, month: Int64, day: Int64, seconds: Int64, micros: Int64) {
        let micros = microsecondsSinceUnixEpoch
        var days = micros / 86_400_000_000
        var rest = micros % 86_400_000_000
        if rest < 0 {
            rest += 86_400_000_000
            days -= 1
        }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, rest / 1_000_000, rest % 1_000_000)
    }
}

extension PostgresTimestamp: PostgresEncodable {
    public static var postgresType: PostgresDataType { .timestamptz }
    public static var postgresArrayType: PostgresDataType? { .timestamptzArray }
    public func postgresText() -> String? {
        // Digits go straight into a fixed buffer: COPY formats a timestamp per row, and building the text out of
        // padded substrings cost more than everything else in a row together.
        let c = civil()
        let bc = c.year <= 0
        var year = bc ? 1 - c.year : c.year
        var out: [UInt8] = []
        out.reserveCapacity(36)
        var yearDigits: [UInt8] = []
        repeat {
            yearDigits.append(UInt8(ascii: "0") + UInt8(year % 10))
            year /= 10
        } while year > 0
        while yearDigits.count < 4 { yearDigits.append(UInt8(ascii: "0")) }
        out.append(contentsOf: yearDigits.reversed())
        func two(_ v: Int64) {
            out.append(UInt8(ascii: "0") + UInt8(v / 10))
            out.append(UInt8(ascii: "0") + UInt8(v % 10))
        }
        out.append(UInt8(ascii: "-")); two(c.month)
        out.append(UInt8(ascii: "-")); two(c.day)
        out.append(UInt8(ascii: " ")); two(c.seconds / 3600)
        out.append(UInt8(ascii: ":")); two(c.seconds / 60 % 60)
        out.append(UInt8(ascii: ":")); two(c.seconds % 60)
        out.append(UInt8(ascii: "."))
        var divisor: Int64 = 100_000
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(c.micros / divisor % 10))
            divisor /= 10
        }
        out.append(contentsOf: Array("+00".utf8))
        // Years before 1 AD are written "... BC", as PostgreSQL's input function expects.
        if bc { out.append(contentsOf: Array(" BC".utf8)) }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A `jsonb` value, carried as its JSON text.
public struct JSONB: Hashable, Sendable, CustomStringConvertible {
    public var text: String
    public init(_ text: String) { self.text = text }

    /// Encodes a value with `JSONEncoder` (sorted keys, so equal values give equal text).
    public init<T: Encodable>(encoding value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self.text = String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Decodes the JSON text with `JSONDecoder`.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    public var description: String { text }
}

extension JSONB: PostgresEncodable {
    public static var postgresType: PostgresDataType { .jsonb }
    public static var postgresArrayType: PostgresDataType? { .jsonbArray }
    public func postgresText() throws -> String? { try text.postgresText() }
}
