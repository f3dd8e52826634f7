/// A problem with a whole import file (as opposed to one bad row, which is reported and skipped). Nothing of the
/// file is stored when one is thrown.
public struct ImportError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable { case unreadable, badFile, unknownFormat, rejectsUnwritable }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The file is missing, a folder, or cannot be read.
        public static let unreadable = Code(.unreadable)
        /// The file as a whole is unusable: an empty CSV, a bad header, text that is not UTF-8.
        public static let badFile = Code(.badFile)
        /// The format cannot be told from the file name and none was given.
        public static let unknownFormat = Code(.unknownFormat)
        /// The file for the rejected rows cannot be written.
        public static let rejectsUnwritable = Code(.rejectsUnwritable)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// One sentence naming the file and the problem.
    public var description: String

    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}

/// Why one row was rejected. Thrown by the row readers and caught per row: the row is reported, the rest goes on.
struct RowRejection: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// A value from the file, quoted for a message: JSON-style escapes keep control characters (and NUL) out of the
/// report, and long values are cut so a reason stays one readable line.
func quoted(_ value: String, limit: Int = 60) -> String {
    var out = "\""
    for (index, scalar) in value.unicodeScalars.enumerated() {
        if index == limit {
            out += "…"
            break
        }
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            out += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
