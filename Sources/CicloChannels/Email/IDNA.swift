import Foundation

/// Domain names to their ASCII form for SMTP and headers: IDNA's ToASCII with Punycode (RFC 3492).
///
/// The mapping is a practical subset of UTS #46: compatibility normalisation (NFKC), lowercasing and the ideographic
/// full stops as dots. A label may hold letters, combining marks, decimal digits and hyphens, which keeps out
/// symbols, emoji and punctuation as IDNA2008 does. Not implemented: the bidi rule (RFC 5893), the contextual rules
/// for joiners (RFC 5892 appendix A), and the full IDNA2008 table of disallowed code points, so a few exotic names
/// that a registry would refuse are let through; no real mailbox uses them.
enum IDNA {
    /// Why a domain was refused; completes the sentence "its domain ...".
    struct Failure: Error {
        var reason: String
    }

    static func toASCII(_ domain: String) throws(Failure) -> String {
        // The usual domain, a plain ASCII host name, passes every check below as it is, and NFKC leaves ASCII
        // alone: it only needs lowercasing, without Foundation's normalisation, which cost microseconds.
        if HostName.isPlain(domain.utf8, minimumLabels: 2) { return domain.lowercased() }
        if domain.hasPrefix("[") { throw Failure(reason: "is an address literal, which is not accepted") }
        let mapped = domain.precomposedStringWithCompatibilityMapping.lowercased()
            .replacingOccurrences(of: "\u{3002}", with: ".")
        if mapped.hasSuffix(".") { throw Failure(reason: "ends with a dot") }
        let labels = mapped.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if labels.contains(where: \.isEmpty) { throw Failure(reason: "has an empty label (a leading dot or two dots)") }
        guard labels.count >= 2 else { throw Failure(reason: "has no dot; it needs a top-level domain") }
        let ascii = try labels.map { (label) throws(Failure) in try asciiLabel(label) }
        if ascii.last!.allSatisfy(\.isNumber) { throw Failure(reason: "has an all-numeric top-level domain") }
        let result = ascii.joined(separator: ".")
        guard result.utf8.count <= 253 else { throw Failure(reason: "is longer than 253 characters") }
        return result
    }

    private static func asciiLabel(_ label: String) throws(Failure) -> String {
        if label.hasPrefix("-") || label.hasSuffix("-") {
            throw Failure(reason: "has a label that starts or ends with a hyphen")
        }
        let result: String
        if label.unicodeScalars.allSatisfy(\.isASCII) {
            if let bad = label.unicodeScalars.first(where: { !isLDH($0) }) {
                throw Failure(reason: "contains the character '\(bad)', which host names do not allow")
            }
            result = label
        } else {
            let scalars = Array(label.unicodeScalars)
            if let bad = scalars.first(where: { !isLDH($0) && !isUnicodeLabelScalar($0) }) {
                throw Failure(reason: "contains the character '\(bad)', which domain names do not allow")
            }
            if isMark(scalars[0]) { throw Failure(reason: "has a label that starts with a combining mark") }
            if scalars.count >= 4 && scalars[2] == "-" && scalars[3] == "-" {
                throw Failure(reason: "has a label with hyphens in the third and fourth positions")
            }
            result = "xn--" + punycode(scalars)
        }
        guard result.utf8.count <= 63 else { throw Failure(reason: "has a label longer than 63 characters") }
        return result
    }

    /// Letters, digits and hyphen: what an ASCII host name label may hold (RFC 1123 2.1).
    private static func isLDH(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-": return true
        default: return false
        }
    }

    private static func isUnicodeLabelScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .lowercaseLetter, .uppercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .decimalNumber:
            return true
        default:
            return isMark(scalar)
        }
    }

    private static func isMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    // Punycode parameters, RFC 3492 section 5.
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700, initialBias = 72, initialN = 128

    /// RFC 3492 section 6.3. Labels are at most 63 octets, so the deltas cannot overflow an Int.
    static func punycode(_ input: [Unicode.Scalar]) -> String {
        let codes = input.map { Int($0.value) }
        var output = codes.filter { $0 < 0x80 }.map { Character(Unicode.Scalar(UInt8($0))) }
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append("-") }
        var n = initialN
        var delta = 0
        var bias = initialBias
        while handled < codes.count {
            let m = codes.filter { $0 >= n }.min()!
            delta += (m - n) * (handled + 1)
            n = m
            for code in codes {
                if code < n { delta += 1 }
                guard code == n else { continue }
                var q = delta
                var k = base
                while true {
                    let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                    if q < t { break }
                    output.append(digit(t + (q - t) % (base - t)))
                    q = (q - t) / (base - t)
                    k += base
                }
                output.append(digit(q))
                bias = adapt(delta: delta, points: handled + 1, first: handled == basicCount)
                delta = 0
                handled += 1
            }
            delta += 1
            n += 1
        }
        return String(output)
    }

    private static func digit(_ value: Int) -> Character {
        let scalar = value < 26 ? 0x61 + value : 0x30 + value - 26
        return Character(Unicode.Scalar(UInt8(scalar)))
    }

    private static func adapt(delta: Int, points: Int, first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / points
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }
}
