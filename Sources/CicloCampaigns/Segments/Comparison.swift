import Foundation

/// An operator of the segment language. The declaration order is the canonical order: a field's comparisons are
/// kept sorted by it, so the same rule written with its operators in any order (or read back from jsonb, which
/// reorders keys) is the same value.
enum ComparisonOperator: String, CaseIterable, Sendable, Comparable {
    case eq, ne
    case `in`
    case notIn = "not_in"
    case gt, gte, lt, lte, exists, contains

    static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    static func names(_ operators: [ComparisonOperator]) -> String {
        operators.map(\.rawValue).joined(separator: ", ")
    }
}

/// A number as the document wrote it. An integral double within exact range is read as an integer, so `100` and
/// `100.0` are the same rule.
enum Number: Sendable, Equatable {
    case int(Int64)
    case double(Double)

    init(_ value: Double) {
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 {
            self = .int(Int64(value))
        } else {
            self = .double(value)
        }
    }

    var double: Double {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        }
    }

    /// Decimal text that PostgreSQL's numeric input reads exactly (for arrays bound as text[] and cast).
    var text: String {
        switch self {
        case .int(let value): return String(value)
        case .double(let value): return "\(value)"
        }
    }
}

/// What a comparison compares with: one value, or the list of `in`, `not_in` and `contains`.
enum Operand: Sendable, Equatable {
    case text(String)
    case number(Number)
    case bool(Bool)
    case texts([String])
    case numbers([Number])
}

/// One operator and its operand, such as `gte: 14`.
struct Comparison: Sendable, Equatable {
    var op: ComparisonOperator
    var operand: Operand
}

/// The kind of value a field holds: it decides which operators apply and how operands are read.
enum ValueKind: Sendable {
    case text, number, integer, boolean, date, list
    /// An event payload field: its type is not declared, so each operand's own type decides.
    case payload

    var operators: [ComparisonOperator] {
        switch self {
        case .text: return [.eq, .ne, .in, .notIn, .exists]
        case .number, .integer, .date: return [.eq, .ne, .in, .notIn, .gt, .gte, .lt, .lte, .exists]
        case .boolean: return [.eq, .ne, .exists]
        case .list: return [.contains, .exists]
        case .payload: return ComparisonOperator.allCases
        }
    }

    var name: String {
        switch self {
        case .text: return "a text value"
        case .number: return "a number"
        case .integer: return "a whole number"
        case .boolean: return "a boolean"
        case .date: return "a date"
        case .list: return "a list"
        case .payload: return "a payload field"
        }
    }

    init(_ type: AttributeCatalogue.AttributeType) {
        switch type {
        case .text: self = .text
        case .number: self = .number
        case .boolean: self = .boolean
        case .date: self = .date
        case .list: self = .list
        }
    }
}

/// Reads a field's comparisons. A scalar is shorthand for `eq` (`contains` for a list), a list for `in`, and a
/// mapping gives operators explicitly; several operators must all hold (`{gte: 1, lt: 5}` is a range).
enum ComparisonReader {
    static func read(_ node: ConfigNode, kind: ValueKind, operators: [ComparisonOperator]? = nil)
        throws(ConfigError) -> [Comparison]
    {
        let allowed = operators ?? kind.operators
        switch node.shape {
        case .mapping:
            let entries = try node.anyMapping().entries
            if entries.isEmpty {
                throw node.error("expected at least one operator: \(ComparisonOperator.names(allowed))")
            }
            return try read(entries: entries, kind: kind, operators: allowed)
        case .sequence:
            guard allowed.contains(.in) else {
                throw node.error(
                    "a list compares nothing here; write one of the operators \(ComparisonOperator.names(allowed))")
            }
            return [try comparison(.in, node, kind: kind)]
        case .scalar:
            let op: ComparisonOperator = kind == .list ? .contains : .eq
            guard allowed.contains(op) else {
                throw node.error("expected operators (\(ComparisonOperator.names(allowed))), found a single value")
            }
            return [try comparison(op, node, kind: kind)]
        }
    }

    /// Reads operator entries of a mapping (also used where the mapping holds other keys, as in `sum:`).
    static func read(
        entries: [(key: String, node: ConfigNode)], kind: ValueKind, operators allowed: [ComparisonOperator]
    ) throws(ConfigError) -> [Comparison] {
        var comparisons: [Comparison] = []
        for (key, node) in entries {
            guard let op = ComparisonOperator(rawValue: key) else {
                throw node.error("unknown operator \"\(key)\"; expected one of: \(ComparisonOperator.names(allowed))")
            }
            guard allowed.contains(op) else {
                let expected = ComparisonOperator.names(allowed)
                throw node.error("operator \"\(key)\" does not apply to \(kind.name); expected one of: \(expected)")
            }
            comparisons.append(try comparison(op, node, kind: kind))
        }
        return comparisons.sorted { $0.op < $1.op }
    }

    static func comparison(_ op: ComparisonOperator, _ node: ConfigNode, kind: ValueKind) throws(ConfigError)
        -> Comparison
    {
        switch op {
        case .exists:
            return Comparison(op: op, operand: .bool(try node.bool()))
        case .in, .notIn:
            return Comparison(op: op, operand: try list(node, kind: kind, op: op))
        case .contains:
            if kind == .payload {
                let value = try single(node, kind: .payload)
                guard case .bool = value else { return Comparison(op: op, operand: value) }
                throw node.error("contains needs a text or a number, found a boolean")
            }
            return Comparison(op: op, operand: .texts(try nonEmpty(node.strings(), node, op: op)))
        case .gt, .gte, .lt, .lte:
            let value = try single(node, kind: kind)
            if kind == .payload {
                guard case .number = value else {
                    throw node.error("\(op.rawValue) compares numbers; found \(describe(value))")
                }
            }
            return Comparison(op: op, operand: value)
        case .eq, .ne:
            return Comparison(op: op, operand: try single(node, kind: kind))
        }
    }

    /// One value of the field's kind.
    static func single(_ node: ConfigNode, kind: ValueKind) throws(ConfigError) -> Operand {
        switch kind {
        case .text, .list: return .text(try node.string())
        case .number: return .number(try number(node))
        case .integer: return .number(.int(Int64(try node.int())))
        case .boolean: return .bool(try node.bool())
        case .date: return .text(try date(node))
        case .payload:
            switch try node.value() {
            case .null: throw node.error("expected a value, found null")
            case .bool(let value):
                // YAML 1.1 reads yes, no, on and off as booleans; in a payload they are far more likely text
                // (a country code NO), so only true and false are booleans here.
                let raw = try node.string()
                return ["true", "false", "True", "False", "TRUE", "FALSE"].contains(raw) ? .bool(value) : .text(raw)
            case .int(let value): return .number(.int(value))
            case .double(let value): return .number(Number(value))
            case .string(let value): return .text(value)
            }
        }
    }

    /// The list of `in` and `not_in`: values of one type; a single value is a list of one.
    static func list(_ node: ConfigNode, kind: ValueKind, op: ComparisonOperator) throws(ConfigError) -> Operand {
        let items = node.shape == .sequence ? try node.sequence() : [node]
        if items.isEmpty { throw node.error("\(op.rawValue) needs at least one value") }
        var texts: [String] = []
        var numbers: [Number] = []
        for item in items {
            switch try single(item, kind: kind) {
            case .text(let value): texts.append(value)
            case .number(let value): numbers.append(value)
            default: throw item.error("\(op.rawValue) compares text or numbers, found a boolean")
            }
        }
        if !texts.isEmpty && !numbers.isEmpty {
            throw node.error("\(op.rawValue) needs values of one type, found both text and numbers")
        }
        return texts.isEmpty ? .numbers(numbers) : .texts(texts)
    }

    static func number(_ node: ConfigNode) throws(ConfigError) -> Number {
        switch try node.value() {
        case .int(let value): return .int(value)
        case .double(let value): return Number(value)
        case .null: throw node.error("expected a number, found null")
        case .bool, .string: throw node.error("expected a number, found \"\(try node.string())\"")
        }
    }

    /// A calendar date written YYYY-MM-DD; compared as that text, which sorts like the dates.
    static func date(_ node: ConfigNode) throws(ConfigError) -> String {
        let text = try node.string()
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy { ("0"..."9").contains($0) } }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            DateComponents(calendar: Calendar(identifier: .gregorian), year: year, month: month, day: day).isValidDate
        {
            return text
        }
        throw node.error("expected a date written YYYY-MM-DD, found \"\(text)\"")
    }

    static func nonEmpty(_ values: [String], _ node: ConfigNode, op: ComparisonOperator) throws(ConfigError) -> [String]
    {
        if values.isEmpty { throw node.error("\(op.rawValue) needs at least one value") }
        return values
    }

    static func describe(_ operand: Operand) -> String {
        switch operand {
        case .text(let value): return "\"\(value)\""
        case .bool(let value): return String(value)
        case .number(let value): return value.text
        case .texts, .numbers: return "a list"
        }
    }
}

// MARK: - Node shapes

/// The three shapes a YAML node takes; readers that accept shorthands switch on it.
enum NodeShape {
    case scalar, sequence, mapping
}

extension ConfigNode {
    var shape: NodeShape {
        switch node {
        case .mapping: return .mapping
        case .sequence: return .sequence
        default: return .scalar
        }
    }
}
