/// Plain host names and URLs recognised on bytes, so that the common case skips Foundation's normalisation and
/// URL parsing, which cost microseconds per message. Each answers "certainly fine" or "ask the full check": a
/// false only sends the value down the slower, exact path.
enum HostName {
    /// Whether `bytes` is a host name of letters, digits and hyphens only: labels of 1 to 63 characters that
    /// neither start nor end with a hyphen, at least `minimumLabels` of them, no trailing dot, at most 253
    /// characters, and a last label that is not all digits.
    static func isPlain(_ bytes: some Collection<UInt8>, minimumLabels: Int) -> Bool {
        guard bytes.count <= 253 else { return false }
        var labels = 0
        var length = 0
        var allDigits = true
        var previous = UInt8(ascii: ".")
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "."):
                guard length > 0, previous != UInt8(ascii: "-") else { return false }
                labels += 1
                length = 0
                allDigits = true
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                length += 1
                allDigits = false
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                length += 1
            case UInt8(ascii: "-"):
                guard length > 0 else { return false }
                length += 1
                allDigits = false
            default:
                return false
            }
            guard length <= 63 else { return false }
            previous = byte
        }
        return length > 0 && previous != UInt8(ascii: "-") && labels + 1 >= minimumLabels && !allDigits
    }

    /// Whether `url` is `http://` or `https://` (any case), a plain host name whose labels have no "--" where IDNA
    /// would look for an A-label, and an optional path of unreserved characters and slashes: a URL that any
    /// RFC 3986 parser reads with that host.
    static func isPlainHTTPURL(_ url: String) -> Bool {
        var url = url
        return url.withUTF8 { bytes in
            let schemeLength: Int
            if UTF8Text.hasASCIIPrefixIgnoringCase(bytes, "https://") {
                schemeLength = 8
            } else if UTF8Text.hasASCIIPrefixIgnoringCase(bytes, "http://") {
                schemeLength = 7
            } else {
                return false
            }
            let rest = bytes[schemeLength...]
            let hostEnd = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
            let host = rest[..<hostEnd]
            guard isPlain(host, minimumLabels: 1) else { return false }
            // No label may have "--" in its third and fourth places ("xn--"), which IDNA would try to decode.
            var labelStart = host.startIndex
            for index in host.startIndex...host.endIndex
            where index == host.endIndex || host[index] == UInt8(ascii: ".") {
                if index - labelStart >= 4 && host[labelStart + 2] == UInt8(ascii: "-")
                    && host[labelStart + 3] == UInt8(ascii: "-")
                {
                    return false
                }
                labelStart = index + 1
            }
            return rest[hostEnd...].allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                    UInt8(ascii: "~"), UInt8(ascii: "/"):
                    true
                default: false
                }
            }
        }
    }
}
