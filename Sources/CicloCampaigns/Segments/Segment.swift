/// A segment: a rule over customers, written in the segment language (YAML or JSON) and compiled to a
/// parameterised SQL boolean expression. It never carries SQL; the README's "Segments" section documents it.
public struct Segment: Sendable, Equatable {
    let condition: Condition

    init(_ condition: Condition) {
        self.condition = condition
    }

    /// Every customer (`locale: {exists: true}`: the locale column is never NULL), for campaigns built in code.
    init() {
        self.init(.column(.locale, [Comparison(op: .exists, operand: .bool(true))]))
    }

    /// Reads a segment rule (the value of a `segment:` or `rule:` key). Unknown fields, operators and attributes,
    /// values of the wrong type and empty `all`/`any` lists are errors naming the file, line and key path.
    public static func parse(_ node: ConfigNode, catalogue: AttributeCatalogue) throws(ConfigError) -> Segment {
        Segment(try Condition.parse(node, catalogue: catalogue))
    }

    /// A boolean SQL expression over the customers row aliased `customer`, as of the instant `now` (an SQL
    /// expression such as `$2::timestamptz`: the scheduler simulates time, so the expression never reads the
    /// clock), with every value bound through `builder`. It is never NULL, so `NOT (...)` of it is its complement.
    public func sql(customer: String, now: String, into builder: inout SQLBuilder) -> String {
        condition.sql(SQLContext(customer: customer, now: now), &builder)
    }

    /// The rule's canonical JSON, which `parse` reads back to an equal segment (also after a trip through jsonb).
    public var json: String { condition.json.text }
}

/// A node of a segment rule. Every leaf compiles to an expression that is true or false, never NULL.
indirect enum Condition: Sendable, Equatable {
    case all([Condition])
    case any([Condition])
    case not(Condition)
    /// stage, persona, locale, timezone.
    case column(CustomerColumn, [Comparison])
    case attribute(name: String, type: AttributeCatalogue.AttributeType, [Comparison])
    case product([ProductTest])
    /// A granted consent row for the channel (no row: no consent).
    case consent(channel: String)
    /// A suppression (unsubscribed, bounce, complaint...) for the channel.
    case suppressed(channel: String)
    case events(EventCondition)
    /// Whole days (24 hours) since a moment of the customer's: last seen, or created.
    case days(DaysColumn, [Comparison])
}

enum CustomerColumn: String, Sendable, CaseIterable {
    case stage, persona, locale, timezone

    /// Stage and persona may be unset; locale and timezone always have a value.
    var nullable: Bool { self == .stage || self == .persona }
}

enum DaysColumn: String, Sendable, CaseIterable {
    case lastSeen = "last_seen_days"
    case created = "created_days"

    var column: String { self == .lastSeen ? "last_seen_at" : "created_at" }

    var operators: [ComparisonOperator] {
        self == .lastSeen ? ValueKind.integer.operators : [.eq, .ne, .in, .notIn, .gt, .gte, .lt, .lte]
    }
}

/// `product: {any: [...]}`: the customer's product preferences hold any, all or none of the products.
struct ProductTest: Sendable, Equatable {
    enum Quantifier: String, Sendable, CaseIterable {
        case any, all, none
    }

    var quantifier: Quantifier
    var products: [String]
}

/// `events: {kind: deposit, within_days: 30, count: {gte: 2}}`: the customer's events of the kinds (in the window
/// ending at `now`, matching the payload filter) number, or sum a payload field, as compared.
struct EventCondition: Sendable, Equatable {
    var kinds: [String]
    var withinDays: Int?
    var filter: PayloadFilter?
    var count: [Comparison]
    var sum: EventSum?
}

struct EventSum: Sendable, Equatable {
    var field: [String]
    var comparisons: [Comparison]
}

// MARK: - Reading

extension Condition {
    static let combinators = ["all", "any", "not"]
    static let fields: Set<String> = Set(
        combinators + CustomerColumn.allCases.map(\.rawValue)
            + DaysColumn.allCases.map(\.rawValue) + ["attribute", "product", "consent", "suppressed", "events"])

    /// A condition is a mapping of fields; several fields in one mapping must all hold.
    static func parse(_ node: ConfigNode, catalogue: AttributeCatalogue) throws(ConfigError) -> Condition {
        let mapping = try node.mapping(allowing: fields)
        if mapping.entries.isEmpty {
            throw node.error("a condition needs a field; expected one of: \(fields.sorted().joined(separator: ", "))")
        }
        var parts: [Condition] = []
        for (key, child) in mapping.entries {
            parts.append(try field(key, child, catalogue: catalogue))
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    static func field(
        _ key: String, _ node: ConfigNode, catalogue: AttributeCatalogue
    ) throws(ConfigError) -> Condition {
        if let column = CustomerColumn(rawValue: key) {
            return .column(column, try ComparisonReader.read(node, kind: .text))
        }
        if let column = DaysColumn(rawValue: key) {
            let comparisons = try ComparisonReader.read(node, kind: .integer, operators: column.operators)
            try checkDays(comparisons, node)
            return .days(column, comparisons)
        }
        switch key {
        case "all", "any":
            let items = try node.sequence()
            if items.isEmpty { throw node.error("\(key) needs at least one condition") }
            var parts: [Condition] = []
            for item in items { parts.append(try parse(item, catalogue: catalogue)) }
            return key == "all" ? .all(parts) : .any(parts)
        case "not":
            return .not(try parse(node, catalogue: catalogue))
        case "attribute":
            return try attribute(node, catalogue: catalogue)
        case "product":
            return .product(try products(node))
        case "consent":
            return .consent(channel: try node.name())
        case "suppressed":
            return .suppressed(channel: try node.name())
        default:  // "events": the mapping above allowed nothing else
            return .events(try EventCondition.parse(node))
        }
    }

    /// `attribute: {tier: {in: [gold, silver]}}`; several attributes in one mapping must all hold.
    static func attribute(_ node: ConfigNode, catalogue: AttributeCatalogue) throws(ConfigError) -> Condition {
        let mapping = try node.anyMapping()
        if mapping.entries.isEmpty { throw node.error("name an attribute, as in attribute: {tier: gold}") }
        var parts: [Condition] = []
        for (name, child) in mapping.entries {
            guard let type = catalogue[name] else {
                let declared = catalogue.types.keys.sorted()
                let known =
                    declared.isEmpty
                    ? "no attributes are declared (customer_attributes is empty)"
                    : "declared attributes: \(declared.joined(separator: ", "))"
                throw child.error("unknown attribute \"\(name)\"; \(known)")
            }
            parts.append(.attribute(name: name, type: type, try ComparisonReader.read(child, kind: ValueKind(type))))
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    /// `product: casino` and `product: [casino, poker]` mean any of them; a mapping names the quantifiers.
    static func products(_ node: ConfigNode) throws(ConfigError) -> [ProductTest] {
        func list(_ node: ConfigNode) throws(ConfigError) -> [String] {
            let values = try node.strings()
            if values.isEmpty { throw node.error("expected at least one product") }
            return values
        }
        guard node.shape == .mapping else { return [ProductTest(quantifier: .any, products: try list(node))] }
        let mapping = try node.mapping(allowing: Set(ProductTest.Quantifier.allCases.map(\.rawValue)))
        if mapping.entries.isEmpty { throw node.error("expected any, all or none") }
        var tests: [ProductTest] = []
        for (key, child) in mapping.entries {
            tests.append(ProductTest(quantifier: ProductTest.Quantifier(rawValue: key)!, products: try list(child)))
        }
        let order = ProductTest.Quantifier.allCases
        return tests.sorted { order.firstIndex(of: $0.quantifier)! < order.firstIndex(of: $1.quantifier)! }
    }

    /// Days are whole and not negative; the bound keeps `n + 1` and the interval arithmetic far from overflow.
    static func checkDays(_ comparisons: [Comparison], _ node: ConfigNode) throws(ConfigError) {
        for comparison in comparisons {
            let values: [Number]
            switch comparison.operand {
            case .number(let value): values = [value]
            case .numbers(let list): values = list
            default: continue
            }
            for case .int(let days) in values where !(0...1_000_000).contains(days) {
                throw node.error("days must be between 0 and 1000000, found \(days)")
            }
        }
    }
}

extension EventCondition {
    static let fields: Set<String> = ["kind", "within_days", "where", "count", "sum"]

    static func parse(_ node: ConfigNode) throws(ConfigError) -> EventCondition {
        let mapping = try node.mapping(allowing: fields)
        let kindNode = try mapping.required("kind")
        let kinds = try kindNode.strings()
        if kinds.isEmpty || kinds.contains(where: { $0.allSatisfy(\.isWhitespace) }) {
            throw kindNode.error("expected an event kind or a list of them")
        }
        var withinDays: Int?
        if let days = mapping["within_days"] {
            let value = try days.int()
            guard (1...36_500).contains(value) else { throw days.error("within_days must be between 1 and 36500") }
            withinDays = value
        }
        let filter = try mapping["where"].map { node throws(ConfigError) in try PayloadFilter.parse(node) }
        var count: [Comparison] = []
        if let countNode = mapping["count"] {
            count = try ComparisonReader.read(
                countNode, kind: .integer, operators: [.eq, .ne, .in, .notIn, .gt, .gte, .lt, .lte])
        }
        var sum: EventSum?
        if let sumNode = mapping["sum"] {
            let entries = try sumNode.anyMapping().entries
            guard let fieldNode = entries.first(where: { $0.key == "field" })?.node else {
                throw sumNode.error("missing required field \"field\" (the numeric payload field to add up)")
            }
            let operators = entries.filter { $0.key != "field" }
            let allowed: [ComparisonOperator] = [.eq, .ne, .gt, .gte, .lt, .lte]
            if operators.isEmpty {
                throw sumNode.error("expected at least one operator: \(ComparisonOperator.names(allowed))")
            }
            sum = EventSum(
                field: try PayloadFilter.path(fieldNode),
                comparisons: try ComparisonReader.read(entries: operators, kind: .number, operators: allowed))
        }
        // "Has done it in the window" is the common question, so a bare event condition means at least one.
        if count.isEmpty && sum == nil { count = [Comparison(op: .gte, operand: .number(.int(1)))] }
        return EventCondition(kinds: kinds, withinDays: withinDays, filter: filter, count: count, sum: sum)
    }
}
