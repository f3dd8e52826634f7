import Foundation

/// Writes the values `JSONSerialization` reads (and the ones the CSV reader builds) back as JSON text for a jsonb
/// column.
///
/// `JSONSerialization.data(withJSONObject:)` bridged every dictionary to Foundation and sorted its keys, and took
/// a quarter of an import's time; jsonb does not keep key order or spacing, so a plain writer is enough.
enum JSONText {
    static func text(_ value: Any) throws(RowRejection) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        try write(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func write(_ value: Any, into out: inout [UInt8]) throws(RowRejection) {
        // Containers before NSNumber: casting a dictionary to NSNumber first bridges it to NSDictionary.
        switch value {
        case let text as String:
            string(text, into: &out)
        case let object as [String: Any]:
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, element) in object {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                string(key, into: &out)
                out.append(UInt8(ascii: ":"))
                try write(element, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case let array as [Any]:
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                try write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let number as NSNumber:
            out.append(contentsOf: try numberText(number).utf8)
        case is NSNull:
            out.append(contentsOf: "null".utf8)
        default:
            throw RowRejection("holds a value that cannot be written as JSON")
        }
    }

    /// Booleans as true/false; integers exactly; floating point in Swift's shortest round-tripping form.
    private static func numberText(_ number: NSNumber) throws(RowRejection) -> String {
        if let bool = JSONValue.bool(number) { return bool ? "true" : "false" }
        switch UInt8(bitPattern: number.objCType.pointee) {
        case UInt8(ascii: "d"), UInt8(ascii: "f"):
            let double = number.doubleValue
            guard double.isFinite else { throw RowRejection("holds a number JSON cannot carry (\(double))") }
            return double.description
        default:
            return number.stringValue
        }
    }

    private static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [
                    UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                    hex[Int(byte >> 4)], hex[Int(byte & 0xF)],
                ])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension String {
    /// Without leading and trailing spaces and tabs. The common case, nothing to trim, costs two byte reads;
    /// Foundation's `trimmingCharacters` went through NSString for every cell.
    var trimmedASCII: String {
        let bytes = utf8
        guard let first = bytes.first, let last = bytes.last else { return self }
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
        guard isSpace(first) || isSpace(last) else { return self }
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end && isSpace(bytes[start]) { start = bytes.index(after: start) }
        while end > start && isSpace(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        return String(self[start..<end])
    }
}
