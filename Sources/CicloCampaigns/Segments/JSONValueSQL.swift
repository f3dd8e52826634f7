/// `expression operator value` for one comparison, its value bound as a parameter.
enum SQLPredicate {
    /// `numeric` compares numbers exactly as numeric (jsonb numbers, sums); otherwise as int8 (counts).
    static func compare(
        _ expression: String, _ comparison: Comparison, _ builder: inout SQLBuilder, numeric: Bool = true
    ) -> String {
        let value: String
        switch comparison.operand {
        case .text(let text): value = builder.bind(.text(text))
        case .bool(let bool): value = builder.bind(.bool(bool))
        case .number(let number): value = literal(number, &builder)
        case .texts(let texts): value = builder.bind(.texts(texts))
        // SQLBuilder has no numeric array: the numbers go as decimal text and the cast reads them exactly.
        case .numbers(let numbers):
            value = "\(builder.bind(.texts(numbers.map(\.text))))::\(numeric ? "numeric" : "int8")[]"
        }
        switch comparison.op {
        case .eq: return "\(expression) = \(value)"
        case .ne: return "\(expression) <> \(value)"
        case .gt: return "\(expression) > \(value)"
        case .gte: return "\(expression) >= \(value)"
        case .lt: return "\(expression) < \(value)"
        case .lte: return "\(expression) <= \(value)"
        case .in: return "\(expression) = ANY(\(value))"
        case .notIn: return "\(expression) <> ALL(\(value))"
        case .exists, .contains: return "true"  // handled by the callers, which know the value's shape
        }
    }

    /// A number parameter. An integer stays int8 (PostgreSQL compares it with numeric exactly); a fraction is cast
    /// to numeric, so a huge stored number is never squeezed into float8 (which would fail the statement).
    static func literal(_ number: Number, _ builder: inout SQLBuilder) -> String {
        switch number {
        case .int(let value): return builder.bind(.int(value))
        case .double(let value): return "\(builder.bind(.double(value)))::numeric"
        }
    }
}

/// Comparisons of a jsonb value (a customer attribute, an event payload field). A stored value of another type
/// than expected fails the comparison instead of failing the statement: each cast sits in a CASE behind a
/// jsonb_typeof check, so one bad row among a million does not abort a scheduler pass.
enum JSONValueSQL {
    /// An attribute compared as its declared type. Equality on text and booleans and `contains` on lists use
    /// containment on the whole attributes column, which the GIN index customers_attributes (jsonb_path_ops) serves.
    static func attribute(
        _ attributes: String, name: String, type: AttributeCatalogue.AttributeType, _ comparisons: [Comparison],
        _ builder: inout SQLBuilder
    ) -> String {
        let key = builder.bind(.text(name))
        let value = "(\(attributes) -> \(key))"
        var parts: [String] = []
        var typed: [Comparison] = []
        for comparison in comparisons {
            switch (comparison.op, comparison.operand, type) {
            case (.exists, .bool(let exists), _):
                parts.append(Self.exists(value, exists))
            case (.eq, .text(let text), .text):
                parts.append("\(attributes) @> jsonb_build_object(\(key), \(builder.bind(.text(text))))")
            case (.eq, .bool(let bool), .boolean):
                parts.append("\(attributes) @> jsonb_build_object(\(key), \(builder.bind(.bool(bool))))")
            case (.contains, .texts(let texts), .list):
                parts.append("\(attributes) @> jsonb_build_object(\(key), to_jsonb(\(builder.bind(.texts(texts)))))")
            default:
                typed.append(comparison)
            }
        }
        if !typed.isEmpty {
            let (guardSQL, expression) = Self.typed(value, type)
            let predicates = typed.map { SQLPredicate.compare(expression, $0, &builder) }.joined(separator: " AND ")
            parts.append("CASE WHEN \(guardSQL) THEN \(predicates) ELSE false END")
        }
        return "(" + parts.joined(separator: " AND ") + ")"
    }

    /// The check that a jsonb value has the type, and the value as that SQL type once checked. Dates are compared
    /// as their YYYY-MM-DD text, which orders like the dates and needs no cast that an invalid date would fail.
    static func typed(_ value: String, _ type: AttributeCatalogue.AttributeType) -> (check: String, expression: String)
    {
        switch type {
        case .text: return ("jsonb_typeof(\(value)) = 'string'", "(\(value) #>> '{}')")
        case .number: return ("jsonb_typeof(\(value)) = 'number'", "(\(value))::numeric")
        case .boolean: return ("jsonb_typeof(\(value)) = 'boolean'", "(\(value))::boolean")
        case .list: return ("jsonb_typeof(\(value)) = 'array'", value)
        case .date:
            return (
                "jsonb_typeof(\(value)) = 'string' AND (\(value) #>> '{}') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ]|$)'",
                "left(\(value) #>> '{}', 10)"
            )
        }
    }

    /// Present and not JSON null.
    static func exists(_ value: String, _ exists: Bool) -> String {
        let present = "coalesce(jsonb_typeof(\(value)) <> 'null', false)"
        return exists ? present : "NOT \(present)"
    }

    /// A payload field compared as the operand's own type: text with strings, numeric with numbers, boolean with
    /// booleans; `contains` looks inside an array.
    static func payload(_ value: String, _ comparison: Comparison, _ builder: inout SQLBuilder) -> String {
        let type: AttributeCatalogue.AttributeType
        switch (comparison.op, comparison.operand) {
        case (.exists, .bool(let exists)):
            return Self.exists(value, exists)
        case (.contains, .text(let text)):
            let element = builder.bind(.text(text))
            return "CASE WHEN jsonb_typeof(\(value)) = 'array' THEN \(value) @> jsonb_build_array(\(element)) ELSE false END"
        case (.contains, .number(let number)):
            let element = SQLPredicate.literal(number, &builder)
            return "CASE WHEN jsonb_typeof(\(value)) = 'array' THEN \(value) @> jsonb_build_array(\(element)) ELSE false END"
        case (_, .text), (_, .texts): type = .text
        case (_, .number), (_, .numbers): type = .number
        case (_, .bool): type = .boolean
        }
        let (check, expression) = typed(value, type)
        return "CASE WHEN \(check) THEN \(SQLPredicate.compare(expression, comparison, &builder)) ELSE false END"
    }
}
