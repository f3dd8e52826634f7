/// A condition over an event's jsonb payload (trigger filters, experience tones, `events: {where: ...}` in
/// segments), such as `{amount: {gte: 100}, currency: EUR}`. Keys are payload fields (`game.provider` reaches into
/// nested objects) except `all`, `any` and `not`, which combine conditions. Payload types are not declared, so each
/// value's own type says how the field is compared; a field of another type matches nothing.
public struct PayloadFilter: Sendable, Equatable {
    let condition: PayloadCondition

    /// Reads a filter; unknown operators, wrong value types and empty combinators are errors with their place.
    public static func parse(_ node: ConfigNode) throws(ConfigError) -> PayloadFilter {
        PayloadFilter(condition: try PayloadCondition.parse(node))
    }

    /// A boolean SQL expression over the jsonb expression `payload`, never NULL, values bound through `builder`.
    public func sql(payload: String, into builder: inout SQLBuilder) -> String {
        condition.sql(payload: payload, &builder)
    }

    /// The filter's canonical JSON, which `parse` reads back to an equal filter.
    public var json: String { condition.json.text }

    /// A payload field path: `amount`, or `game.provider` for a nested object.
    static func path(_ node: ConfigNode) throws(ConfigError) -> [String] {
        let parts = try node.name().split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.contains(where: \.isEmpty) { throw node.error("a field path has an empty part") }
        return parts
    }
}

indirect enum PayloadCondition: Sendable, Equatable {
    case all([PayloadCondition])
    case any([PayloadCondition])
    case not(PayloadCondition)
    case field(path: [String], [Comparison])

    static func parse(_ node: ConfigNode) throws(ConfigError) -> PayloadCondition {
        let entries = try node.anyMapping().entries
        if entries.isEmpty { throw node.error("a filter needs at least one payload field") }
        var parts: [PayloadCondition] = []
        for (key, child) in entries {
            switch key {
            case "all", "any":
                let items = try child.sequence()
                if items.isEmpty { throw child.error("\(key) needs at least one condition") }
                var list: [PayloadCondition] = []
                for item in items { list.append(try parse(item)) }
                parts.append(key == "all" ? .all(list) : .any(list))
            case "not":
                parts.append(.not(try parse(child)))
            default:
                let path = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                if path.contains(where: \.isEmpty) { throw child.error("the field path \"\(key)\" has an empty part") }
                parts.append(.field(path: path, try ComparisonReader.read(child, kind: .payload)))
            }
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    func sql(payload: String, _ builder: inout SQLBuilder) -> String {
        switch self {
        case .all(let parts):
            return "(" + parts.map { $0.sql(payload: payload, &builder) }.joined(separator: " AND ") + ")"
        case .any(let parts):
            return "(" + parts.map { $0.sql(payload: payload, &builder) }.joined(separator: " OR ") + ")"
        case .not(let part): return "NOT (" + part.sql(payload: payload, &builder) + ")"
        case .field(let path, let comparisons):
            let value = "(\(payload) #> \(builder.bind(.texts(path))))"
            return "(" + comparisons.map { JSONValueSQL.payload(value, $0, &builder) }.joined(separator: " AND ") + ")"
        }
    }

    var json: JSONText {
        switch self {
        case .all(let parts): return .object([("all", .array(parts.map(\.json)))])
        case .any(let parts): return .object([("any", .array(parts.map(\.json)))])
        case .not(let part): return .object([("not", part.json)])
        case .field(let path, let comparisons):
            return .object([(path.joined(separator: "."), JSONText.comparisons(comparisons))])
        }
    }
}
