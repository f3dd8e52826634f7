/// JSON written by hand for the channel bodies, byte for byte what `ChannelJSON.encode` (Foundation's JSONEncoder
/// with sorted keys and unescaped slashes) writes for the same values, at a small fraction of the cost: the
/// encoder's generic `Encodable` machinery was most of the time spent building an SMS or webhook request.
///
/// Strings are escaped as swift-foundation's JSONWriter escapes them: `"` and `\` with a backslash, the controls
/// that have a short form (`\b`, `\f`, `\n`, `\r`, `\t`) in it, other controls below U+0020 as `\u00xx` in lowercase
/// hex; everything else, `/` and non-ASCII included, as it is.
struct JSONText {
    private(set) var bytes: [UInt8] = []
    private var needsComma = false

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    /// A string value on its own, as JSONEncoder writes a top-level string.
    static func string(_ value: String) -> [UInt8] {
        var json = JSONText(capacity: value.utf8.count + 2)
        json.appendString(value)
        return json.bytes
    }

    /// An object of string values, keys in the order JSONEncoder's `.sortedKeys` gives (their UTF-8 bytes compared).
    static func object(_ values: [String: String]) -> [UInt8] {
        var json = JSONText(capacity: values.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        json.appendObject(values)
        return json.bytes
    }

    mutating func appendObject(_ values: [String: String]) {
        beginObject()
        for (key, value) in values.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            field(key, value)
        }
        endObject()
    }

    mutating func beginObject() {
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Starts a member: the comma before it if needed, the key and the colon.
    mutating func key(_ key: String) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        appendString(key)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func field(_ key: String, _ value: String) {
        self.key(key)
        appendString(value)
        needsComma = true
    }

    mutating func field(_ key: String, _ value: Int) {
        self.key(key)
        UTF8Text.append(String(value), to: &bytes)
        needsComma = true
    }

    mutating func appendString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { source in
            var runStart = 0
            for (index, byte) in source.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart..<index]))
                runStart = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case 0x22, 0x5C: bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default:
                    bytes.append(contentsOf: "u00".utf8)
                    UTF8Text.appendHex(byte, to: &bytes, digits: UTF8Text.lowerDigits)
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }
}
