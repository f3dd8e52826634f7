/// One start or end tag, read leniently: unquoted and single-quoted attribute values, missing `>` at the end.
struct HTMLTag {
    /// The element name, lowercased.
    var name = ""
    var isClosing = false
    var isSelfClosing = false
    /// Attribute values by lowercased name, entities decoded; the first of repeated names wins, as in browsers.
    var attributes: [String: String] = [:]
    /// The index just after the tag.
    var end: Int

    init(_ scalars: [Unicode.Scalar], at start: Int) {
        var index = start + 1
        func isSpace(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.isWhitespace }
        if index < scalars.count && scalars[index] == "/" {
            isClosing = true
            index += 1
        }
        while index < scalars.count && !isSpace(scalars[index]) && scalars[index] != "/" && scalars[index] != ">" {
            name.unicodeScalars.append(Self.lowercased(scalars[index]))
            index += 1
        }
        while index < scalars.count && scalars[index] != ">" {
            if isSpace(scalars[index]) || scalars[index] == "/" {
                isSelfClosing = scalars[index] == "/"
                index += 1
                continue
            }
            isSelfClosing = false
            var attribute = ""
            while index < scalars.count && !isSpace(scalars[index]) && !"=/>".unicodeScalars.contains(scalars[index]) {
                attribute.unicodeScalars.append(Self.lowercased(scalars[index]))
                index += 1
            }
            while index < scalars.count && isSpace(scalars[index]) { index += 1 }
            var value = ""
            if index < scalars.count && scalars[index] == "=" {
                index += 1
                while index < scalars.count && isSpace(scalars[index]) { index += 1 }
                let valueStart: Int
                let valueEnd: Int
                if index < scalars.count && (scalars[index] == "\"" || scalars[index] == "'") {
                    let quote = scalars[index]
                    valueStart = index + 1
                    valueEnd = scalars[valueStart...].firstIndex(of: quote) ?? scalars.count
                    index = min(valueEnd + 1, scalars.count)
                } else {
                    valueStart = index
                    while index < scalars.count && !isSpace(scalars[index]) && scalars[index] != ">" { index += 1 }
                    valueEnd = index
                }
                value = HTMLEntities.decode(scalars[valueStart..<valueEnd])
            }
            if attributes[attribute] == nil { attributes[attribute] = value }
        }
        end = min(index + 1, scalars.count)
    }

    /// HTML names are ASCII-case-insensitive; full Unicode lowercasing would be wrong (and slower) here.
    static func lowercased(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        ("A"..."Z").contains(scalar) ? Unicode.Scalar(scalar.value + 32)! : scalar
    }
}

/// Collects text as a browser lays it out: runs of white space become one space, block boundaries become line
/// breaks (at most a blank line), and nothing trails a line.
struct TextCollector {
    private(set) var output = ""
    private var pendingSpace = false
    private var pendingBreaks = 0

    /// Zero-width characters that email builders pad preheaders with; they only clutter the text version.
    private static let invisible: Set<Unicode.Scalar> = ["\u{200B}", "\u{200C}", "\u{FEFF}", "\u{00AD}", "\u{034F}"]

    mutating func append(_ string: String) {
        for scalar in string.unicodeScalars where !Self.invisible.contains(scalar) {
            if scalar.properties.isWhitespace {
                pendingSpace = !output.isEmpty
                continue
            }
            if pendingBreaks > 0 {
                if !output.isEmpty { output += String(repeating: "\n", count: pendingBreaks) }
                pendingBreaks = 0
            } else if pendingSpace {
                output += " "
            }
            pendingSpace = false
            output.unicodeScalars.append(scalar)
        }
    }

    /// Ends the line (1) or the paragraph (2) before the next text.
    mutating func lineBreak(_ count: Int) {
        pendingBreaks = max(pendingBreaks, count)
        pendingSpace = false
    }
}
