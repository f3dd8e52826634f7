/// A small JSON value written with its keys in a fixed order, so the canonical form of a rule is one string.
/// (JSONSerialization orders keys only alphabetically, escapes slashes and prints integral doubles as integers.)
indirect enum JSONText: Sendable {
    case string(String)
    case number(Number)
    case bool(Bool)
    case array([JSONText])
    case object([(String, JSONText)])

    var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .string(let value): Self.quote(value, into: &out)
        case .number(let value): out += value.text
        case .bool(let value): out += value ? "true" : "false"
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let entries):
            out += "{"
            for (index, (key, value)) in entries.enumerated() {
                if index > 0 { out += "," }
                Self.quote(key, into: &out)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        }
    }

    static func quote(_ string: String, into out: inout String) {
        out += ConfigNode.jsonString(string)
    }

    /// A field's comparisons as `{"gte":1,"lt":5}`, in operator order.
    static func comparisons(_ comparisons: [Comparison]) -> JSONText {
        .object(comparisons.map { ($0.op.rawValue, operand($0.operand)) })
    }

    static func operand(_ operand: Operand) -> JSONText {
        switch operand {
        case .text(let value): return .string(value)
        case .number(let value): return .number(value)
        case .bool(let value): return .bool(value)
        case .texts(let values): return .array(values.map(JSONText.string))
        case .numbers(let values): return .array(values.map(JSONText.number))
        }
    }
}

extension Condition {
    /// The canonical form: shorthands written out (`{"stage":{"eq":"Active"}}`), one field per mapping, operators
    /// and quantifiers in their declaration order.
    var json: JSONText {
        switch self {
        case .all(let parts): return .object([("all", .array(parts.map(\.json)))])
        case .any(let parts): return .object([("any", .array(parts.map(\.json)))])
        case .not(let part): return .object([("not", part.json)])
        case .column(let column, let comparisons): return .object([(column.rawValue, .comparisons(comparisons))])
        case .attribute(let name, _, let comparisons):
            return .object([("attribute", .object([(name, .comparisons(comparisons))]))])
        case .product(let tests):
            return .object([
                ("product", .object(tests.map { ($0.quantifier.rawValue, .array($0.products.map(JSONText.string))) }))
            ])
        case .consent(let channel): return .object([("consent", .string(channel))])
        case .suppressed(let channel): return .object([("suppressed", .string(channel))])
        case .events(let events): return .object([("events", events.json)])
        case .days(let column, let comparisons): return .object([(column.rawValue, .comparisons(comparisons))])
        }
    }
}

extension EventCondition {
    var json: JSONText {
        var entries: [(String, JSONText)] = [
            ("kind", kinds.count == 1 ? .string(kinds[0]) : .array(kinds.map(JSONText.string)))
        ]
        if let withinDays { entries.append(("within_days", .number(.int(Int64(withinDays))))) }
        if let filter { entries.append(("where", filter.condition.json)) }
        if !count.isEmpty { entries.append(("count", .comparisons(count))) }
        if let sum {
            let field: (String, JSONText) = ("field", .string(sum.field.joined(separator: ".")))
            entries.append(
                ("sum", .object([field] + sum.comparisons.map { ($0.op.rawValue, JSONText.operand($0.operand)) })))
        }
        return .object(entries)
    }
}
