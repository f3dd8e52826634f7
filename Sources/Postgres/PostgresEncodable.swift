import Foundation

/// A Swift value that can be bound to a statement parameter (`$1`, `$2`...) or written to a COPY stream.
///
/// Values travel in PostgreSQL's text form with an explicit type OID, so the server's own input function parses
/// them. They are never spliced into SQL text.
public protocol PostgresEncodable: Sendable {
    /// The type the parameter is declared as.
    static var postgresType: PostgresDataType { get }
    /// The array type whose elements are of this type, if values of this type can form an array parameter.
    static var postgresArrayType: PostgresDataType? { get }
    /// The text PostgreSQL's input function for `postgresType` reads, or nil for SQL NULL.
    func postgresText() throws -> String?
}

extension PostgresEncodable {
    public static var postgresArrayType: PostgresDataType? { nil }
    /// The instance's type; differs from `postgresType` only for wrappers.
    var boundType: PostgresDataType { Self.postgresType }
}

/// SQL NULL of unspecified type, for an untyped `nil` in a parameter list.
public struct PostgresNull: PostgresEncodable {
    public init() {}
    public static var postgresType: PostgresDataType { .unknown }
    public func postgresText() -> String? { nil }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public static var postgresType: PostgresDataType { Wrapped.postgresType }
    public static var postgresArrayType: PostgresDataType? { Wrapped.postgresArrayType }
    public func postgresText() throws -> String? {
        switch self {
        case .none: return nil
        case .some(let value): return try value.postgresText()
        }
    }
}

extension String: PostgresEncodable {
    public static var postgresType: PostgresDataType { .text }
    public static var postgresArrayType: PostgresDataType? { .textArray }
    public func postgresText() throws -> String? {
        // Parameters travel as C strings, and PostgreSQL text cannot hold U+0000 anyway: refuse it by name
        // rather than silently cutting the value short.
        if self.utf8.contains(0) {
            throw PostgresError(
                code: .encoding, message: "A text value contains the NUL character (U+0000), which PostgreSQL cannot store")
        }
        return self
    }
}

extension Substring: PostgresEncodable {
    public static var postgresType: PostgresDataType { .text }
    public static var postgresArrayType: PostgresDataType? { .textArray }
    public func postgresText() throws -> String? { try String(self).postgresText() }
}

extension Int: PostgresEncodable {
    public static var postgresType: PostgresDataType { .int8 }
    public static var postgresArrayType: PostgresDataType? { .int8Array }
    public func postgresText() -> String? { String(self) }
}

extension Int64: PostgresEncodable {
    public static var postgresType: PostgresDataType { .int8 }
    public static var postgresArrayType: PostgresDataType? { .int8Array }
    public func postgresText() -> String? { String(self) }
}

extension Int32: PostgresEncodable {
    public static var postgresType: PostgresDataType { .int4 }
    public static var postgresArrayType: PostgresDataType? { .int4Array }
    public func postgresText() -> String? { String(self) }
}

extension Int16: PostgresEncodable {
    public static var postgresType: PostgresDataType { .int2 }
    public static var postgresArrayType: PostgresDataType? { .int2Array }
    public func postgresText() -> String? { String(self) }
}

extension Bool: PostgresEncodable {
    public static var postgresType: PostgresDataType { .bool }
    public static var postgresArrayType: PostgresDataType? { .boolArray }
    public func postgresText() -> String? { self ? "t" : "f" }
}

extension Double: PostgresEncodable {
    public static var postgresType: PostgresDataType { .float8 }
    public static var postgresArrayType: PostgresDataType? { .float8Array }
    public func postgresText() -> String? {
        // Swift prints the shortest text that reads back to the same Double; only the specials are spelled apart.
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return description
    }
}

extension Float: PostgresEncodable {
    public static var postgresType: PostgresDataType { .float4 }
    public static var postgresArrayType: PostgresDataType? { .float4Array }
    public func postgresText() -> String? { Double(self).postgresText() }
}

extension Data: PostgresEncodable {
    public static var postgresType: PostgresDataType { .bytea }
    public static var postgresArrayType: PostgresDataType? { .byteaArray }
    public func postgresText() -> String? { Array(self).postgresByteaText }
}

extension Array where Element == UInt8 {
    /// The hex form of bytea input: `\x` followed by two hex digits a byte.
    var postgresByteaText: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 2 + count * 2)
        out[0] = UInt8(ascii: "\\")
        out[1] = UInt8(ascii: "x")
        for (i, byte) in enumerated() {
            out[2 + 2 * i] = digits[Int(byte >> 4)]
            out[3 + 2 * i] = digits[Int(byte & 0x0f)]
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension UUID: PostgresEncodable {
    public static var postgresType: PostgresDataType { .uuid }
    public static var postgresArrayType: PostgresDataType? { .uuidArray }
    public func postgresText() -> String? { uuidString }
}

extension Date: PostgresEncodable {
    public static var postgresType: PostgresDataType { .timestamptz }
    public static var postgresArrayType: PostgresDataType? { .timestamptzArray }
    public func postgresText() -> String? { PostgresTimestamp(self).postgresText() }
}

extension Array: PostgresEncodable where Element: PostgresEncodable {
    public static var postgresType: PostgresDataType { Element.postgresArrayType ?? .unknown }
    public func postgresText() throws -> String? {
        guard Element.postgresArrayType != nil else {
            throw PostgresError(code: .encoding, message: "Values of type \(Element.self) cannot be sent as an array")
        }
        // Every element is quoted, so commas, braces, quotes and the word NULL inside text stay data. Written as
        // UTF-8 bytes: a quote and a backslash are single bytes that no multi-byte character contains, and
        // appending scalar by scalar to a string was most of what sending a worker's completions cost it.
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(2 + count * 8)
        for (i, element) in enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            guard let text = try element.postgresText() else {
                out.append(contentsOf: "NULL".utf8)
                continue
            }
            out.append(UInt8(ascii: "\""))
            for byte in text.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}
