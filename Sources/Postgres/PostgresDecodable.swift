import Foundation

/// A Swift value that can be read from a result column.
///
/// Results arrive in PostgreSQL's binary form, so nothing depends on the session's DateStyle, locale or
/// extra_float_digits, and numbers come back exactly.
public protocol PostgresDecodable {
    /// Reads a non-NULL value.
    init(postgresCell cell: PostgresCell) throws
    /// Reads a possibly-NULL value; the default refuses NULL with an error naming the column.
    static func decode(postgresCell cell: PostgresCell) throws -> Self
}

extension PostgresDecodable {
    public static func decode(postgresCell cell: PostgresCell) throws -> Self {
        guard cell.bytes != nil else {
            throw cell.error("is NULL; read it as an Optional")
        }
        return try Self(postgresCell: cell)
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        self = .some(try Wrapped(postgresCell: cell))
    }
    public static func decode(postgresCell cell: PostgresCell) throws -> Self {
        guard cell.bytes != nil else { return .none }
        return .some(try Wrapped(postgresCell: cell))
    }
}

/// One value of a result: its bytes in binary form (nil for NULL), its type and where it came from.
public struct PostgresCell: Sendable {
    public let type: PostgresDataType
    public let columnName: String
    public let bytes: ArraySlice<UInt8>?

    public init(type: PostgresDataType, columnName: String, bytes: ArraySlice<UInt8>?) {
        self.type = type
        self.columnName = columnName
        self.bytes = bytes
    }

    var nonNullBytes: ArraySlice<UInt8> { bytes ?? [] }

    func error(_ problem: String) -> PostgresError {
        PostgresError(code: .decoding, message: "Column \"\(columnName)\" (\(type)) \(problem)")
    }

    func unsupported<T>(_ swiftType: T.Type) -> PostgresError {
        error("cannot be read as \(swiftType); cast it in SQL or read it as another type")
    }

    /// A big-endian integer of `width` bytes starting `offset` bytes into the value.
    func integer(at offset: Int = 0, width: Int) throws -> Int64 {
        let bytes = nonNullBytes
        guard bytes.count >= offset + width else { throw error("is shorter than its type allows") }
        var value: UInt64 = 0
        var index = bytes.startIndex + offset
        for _ in 0..<width {
            value = value << 8 | UInt64(bytes[index])
            index += 1
        }
        // Sign-extend from the value's width.
        let shift = UInt64(64 - width * 8)
        return Int64(bitPattern: value << shift) >> Int64(shift)
    }
}

extension Int: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        switch cell.type {
        case .int2: self = Int(try cell.integer(width: 2))
        case .int4: self = Int(try cell.integer(width: 4))
        case .int8: self = Int(try cell.integer(width: 8))
        case .oid: self = Int(UInt32(truncatingIfNeeded: try cell.integer(width: 4)))
        default: throw cell.unsupported(Int.self)
        }
    }
}

extension Int64: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws { self = Int64(try Int(postgresCell: cell)) }
}

extension Int32: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        let value = try Int(postgresCell: cell)
        guard let narrow = Int32(exactly: value) else { throw cell.error("value \(value) does not fit in Int32") }
        self = narrow
    }
}

extension Int16: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        let value = try Int(postgresCell: cell)
        guard let narrow = Int16(exactly: value) else { throw cell.error("value \(value) does not fit in Int16") }
        self = narrow
    }
}

extension Bool: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        guard cell.type == .bool, let byte = cell.nonNullBytes.first else { throw cell.unsupported(Bool.self) }
        self = byte != 0
    }
}

extension Double: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        switch cell.type {
        case .float8: self = Double(bitPattern: UInt64(bitPattern: try cell.integer(width: 8)))
        case .float4: self = Double(Float(bitPattern: UInt32(truncatingIfNeeded: try cell.integer(width: 4))))
        case .int2, .int4, .int8: self = Double(try Int(postgresCell: cell))
        case .numeric:
            let text = try PostgresNumeric.text(cell)
            guard let value = Double(text) else { throw cell.error("value \(text) is not a finite number") }
            self = value
        default: throw cell.unsupported(Double.self)
        }
    }
}

extension String: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        let bytes = cell.nonNullBytes
        switch cell.type {
        case .text, .varchar, .bpchar, .name, .json, .char, .unknown:
            self = String(decoding: bytes, as: UTF8.self)
        case .jsonb:
            // Binary jsonb is a version byte (1) followed by the JSON text.
            guard bytes.first == 1 else { throw cell.error("has an unknown jsonb format version") }
            self = String(decoding: bytes.dropFirst(), as: UTF8.self)
        case .uuid: self = try UUID(postgresCell: cell).uuidString
        case .numeric: self = try PostgresNumeric.text(cell)
        case .int2, .int4, .int8: self = String(try Int(postgresCell: cell))
        case .timestamptz: self = try PostgresTimestamp(postgresCell: cell).description
        default: throw cell.unsupported(String.self)
        }
    }
}

extension Data: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        guard cell.type == .bytea else { throw cell.unsupported(Data.self) }
        self = Data(cell.nonNullBytes)
    }
}

extension UUID: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        let b = Array(cell.nonNullBytes)
        guard cell.type == .uuid, b.count == 16 else { throw cell.unsupported(UUID.self) }
        self = UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }
}

extension PostgresTimestamp: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        switch cell.type {
        case .timestamptz, .timestamp:
            let micros = try cell.integer(width: 8)
            // ±infinity are stored as Int64.max/min; they have no instant.
            guard micros != .max, micros != .min else { throw cell.error("is infinite and has no instant") }
            let (unix, overflow) = micros.addingReportingOverflow(Self.postgresEpochOffset)
            guard !overflow else { throw cell.error("is beyond the instants PostgresTimestamp can hold") }
            self.init(microsecondsSinceUnixEpoch: unix)
        case .date:
            let days = try cell.integer(width: 4)
            guard days != Int64(Int32.max), days != Int64(Int32.min) else {
                throw cell.error("is infinite and has no instant")
            }
            let (micros, overflow1) = days.multipliedReportingOverflow(by: 86_400_000_000)
            let (unix, overflow2) = micros.addingReportingOverflow(Self.postgresEpochOffset)
            guard !overflow1, !overflow2 else { throw cell.error("is beyond the instants PostgresTimestamp can hold") }
            self.init(microsecondsSinceUnixEpoch: unix)
        default: throw cell.unsupported(PostgresTimestamp.self)
        }
    }
}

extension Date: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws { self = try PostgresTimestamp(postgresCell: cell).date }
}

extension JSONB: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        guard cell.type == .jsonb || cell.type == .json else { throw cell.unsupported(JSONB.self) }
        self.init(try String(postgresCell: cell))
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    /// Reads a one-dimensional array (binary layout: ndim, has-null flag, element OID, then per dimension its
    /// length and lower bound, then each element as a length and its bytes, -1 for NULL).
    public init(postgresCell cell: PostgresCell) throws {
        let dimensions = try cell.integer(at: 0, width: 4)
        guard dimensions <= 1 else { throw cell.error("has \(dimensions) dimensions; only one is supported") }
        if dimensions == 0 {
            self = []
            return
        }
        let elementType = PostgresDataType(UInt32(truncatingIfNeeded: try cell.integer(at: 8, width: 4)))
        let count = Int(try cell.integer(at: 12, width: 4))
        var offset = 20
        let bytes = cell.nonNullBytes
        var result: [Element] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            let length = Int(try cell.integer(at: offset, width: 4))
            offset += 4
            var slice: ArraySlice<UInt8>? = nil
            if length >= 0 {
                guard bytes.count >= offset + length else { throw cell.error("is shorter than its header says") }
                let start = bytes.startIndex + offset
                slice = bytes[start..<start + length]
                offset += length
            }
            let element = PostgresCell(type: elementType, columnName: cell.columnName, bytes: slice)
            result.append(try Element.decode(postgresCell: element))
        }
        self = result
    }
}

/// Binary numeric: ndigits, weight, sign, dscale, then base-10000 digits. Read to exact decimal text.
enum PostgresNumeric {
    static func text(_ cell: PostgresCell) throws -> String {
        let ndigits = Int(try cell.integer(at: 0, width: 2))
        let weight = Int(try cell.integer(at: 2, width: 2))
        let sign = UInt16(truncatingIfNeeded: try cell.integer(at: 4, width: 2))
        let dscale = Int(try cell.integer(at: 6, width: 2))
        switch sign {
        case 0xC000: return "NaN"
        case 0xD000: return "Infinity"
        case 0xF000: return "-Infinity"
        default: break
        }
        var digits: [Int] = []
        for i in 0..<ndigits { digits.append(Int(try cell.integer(at: 8 + 2 * i, width: 2))) }
        func group(_ i: Int) -> Int { i >= 0 && i < digits.count ? digits[i] : 0 }
        var integerPart = ""
        if weight < 0 {
            integerPart = "0"
        } else {
            for i in 0...weight {
                let g = String(group(i))
                integerPart += i == 0 ? g : String(repeating: "0", count: 4 - g.count) + g
            }
        }
        var fraction = ""
        var i = weight + 1
        while fraction.count < dscale {
            let g = String(group(i))
            fraction += String(repeating: "0", count: 4 - g.count) + g
            i += 1
        }
        fraction = String(fraction.prefix(dscale))
        let body = dscale > 0 ? integerPart + "." + fraction : integerPart
        return sign == 0x4000 ? "-" + body : body
    }
}
