/// Where a segment's SQL is evaluated: the alias of the customers row and the SQL expression of the instant.
struct SQLContext {
    var customer: String
    var now: String

    func column(_ name: String) -> String { "\(customer).\(name)" }
}

// Every leaf below yields true or false, never NULL (a missing value fails its comparison explicitly), so that
// `not:` is a plain NOT and a caller's `NOT (segment)` is the exact complement. Leaves on indexed columns keep
// the indexable form: `stage = $1`, `attributes @> ...` (GIN jsonb_path_ops), `product_preferences && ...` (GIN),
// and correlated EXISTS / aggregate subqueries that the (customer_id, kind, occurred_at) index answers.
extension Condition {
    func sql(_ context: SQLContext, _ builder: inout SQLBuilder) -> String {
        switch self {
        case .all(let parts):
            return "(" + parts.map { $0.sql(context, &builder) }.joined(separator: " AND ") + ")"
        case .any(let parts):
            return "(" + parts.map { $0.sql(context, &builder) }.joined(separator: " OR ") + ")"
        case .not(let part):
            return "NOT (" + part.sql(context, &builder) + ")"
        case .column(let column, let comparisons):
            return Self.textColumn(context.column(column.rawValue), nullable: column.nullable, comparisons, &builder)
        case .attribute(let name, let type, let comparisons):
            return JSONValueSQL.attribute(context.column("attributes"), name: name, type: type, comparisons, &builder)
        case .product(let tests):
            let column = context.column("product_preferences")
            var parts: [String] = []
            for test in tests {
                let products = builder.bind(.texts(test.products))
                switch test.quantifier {
                case .any: parts.append("\(column) && \(products)")
                case .all: parts.append("\(column) @> \(products)")
                case .none: parts.append("NOT (\(column) && \(products))")
                }
            }
            return "(" + parts.joined(separator: " AND ") + ")"
        case .consent(let channel):
            // consents' primary key (customer_id, channel) answers it.
            return "EXISTS (SELECT 1 FROM consents seg_k WHERE seg_k.customer_id = \(context.column("id"))"
                + " AND seg_k.channel = \(builder.bind(.text(channel))) AND seg_k.granted)"
        case .suppressed(let channel):
            return "EXISTS (SELECT 1 FROM suppressions seg_s WHERE seg_s.customer_id = \(context.column("id"))"
                + " AND seg_s.channel = \(builder.bind(.text(channel))))"
        case .events(let events):
            return events.sql(context, &builder)
        case .days(let column, let comparisons):
            return Self.days(
                context.column(column.column), nullable: column == .lastSeen, now: context.now, comparisons, &builder)
        }
    }

    /// A text column: stage, persona, locale, timezone. A NULL stage or persona fails every comparison but
    /// `exists: false`.
    static func textColumn(_ column: String, nullable: Bool, _ comparisons: [Comparison], _ builder: inout SQLBuilder)
        -> String
    {
        var parts: [String] = []
        var compared = false
        for comparison in comparisons {
            if case .exists = comparison.op, case .bool(let exists) = comparison.operand {
                parts.append(exists ? "\(column) IS NOT NULL" : "\(column) IS NULL")
                continue
            }
            compared = true
            parts.append(SQLPredicate.compare(column, comparison, &builder))
        }
        if nullable && compared { parts.insert("\(column) IS NOT NULL", at: 0) }
        return "(" + parts.joined(separator: " AND ") + ")"
    }

    /// Whole days since a timestamp, compared by turning the days into bounds on the column itself (no per-row
    /// arithmetic): `days >= n` is `at <= now - n days`. A day is 24 hours, whatever the session's time zone.
    /// A NULL last_seen_at (never seen) counts as infinitely long ago: it passes gt, gte, ne and not_in, and fails
    /// eq, in, lt and lte; `exists: false` selects exactly those customers.
    static func days(
        _ column: String, nullable: Bool, now: String, _ comparisons: [Comparison], _ builder: inout SQLBuilder
    ) -> String {
        func bound(_ days: Int64) -> String { "(\(now) - \(builder.bind(.int(days))) * interval '24 hours')" }
        func exactly(_ days: Int64) -> String { "(\(column) <= \(bound(days)) AND \(column) > \(bound(days + 1)))" }
        func other(_ days: Int64) -> String { "(\(column) > \(bound(days)) OR \(column) <= \(bound(days + 1)))" }
        func neverSeen(passes: Bool, _ predicate: String) -> String {
            guard nullable else { return predicate }
            return passes ? "(\(column) IS NULL OR \(predicate))" : "(\(column) IS NOT NULL AND \(predicate))"
        }
        var parts: [String] = []
        for comparison in comparisons {
            let values: [Int64]
            switch comparison.operand {
            case .bool(let exists):
                parts.append(exists ? "\(column) IS NOT NULL" : "\(column) IS NULL")
                continue
            case .number(.int(let value)): values = [value]
            case .numbers(let list): values = list.compactMap { if case .int(let value) = $0 { value } else { nil } }
            default: continue  // the reader only makes integers here
            }
            let value = values.first ?? 0
            switch comparison.op {
            case .gte: parts.append(neverSeen(passes: true, "\(column) <= \(bound(value))"))
            case .gt: parts.append(neverSeen(passes: true, "\(column) <= \(bound(value + 1))"))
            case .lt: parts.append(neverSeen(passes: false, "\(column) > \(bound(value))"))
            case .lte: parts.append(neverSeen(passes: false, "\(column) > \(bound(value + 1))"))
            case .eq: parts.append(neverSeen(passes: false, exactly(value)))
            case .ne: parts.append(neverSeen(passes: true, other(value)))
            case .in: parts.append(neverSeen(passes: false, "(" + values.map(exactly).joined(separator: " OR ") + ")"))
            case .notIn: parts.append(neverSeen(passes: true, "(" + values.map(other).joined(separator: " AND ") + ")"))
            case .exists, .contains: continue
            }
        }
        return "(" + parts.joined(separator: " AND ") + ")"
    }
}

extension EventCondition {
    /// A correlated subquery per customer on events (customer_id, kind, occurred_at): the index gives the
    /// customer's events of the kind in the window; only the payload filter and the sum read the rows. Events after
    /// `now` have not happened yet in a simulation, so the window always ends at `now`.
    func sql(_ context: SQLContext, _ builder: inout SQLBuilder) -> String {
        var from = "FROM events seg_e WHERE seg_e.customer_id = \(context.column("id"))"
        from +=
            kinds.count == 1
            ? " AND seg_e.kind = \(builder.bind(.text(kinds[0])))"
            : " AND seg_e.kind = ANY(\(builder.bind(.texts(kinds))))"
        from += " AND seg_e.occurred_at <= \(context.now)"
        if let withinDays {
            let days = builder.bind(.int(Int64(withinDays)))
            from += " AND seg_e.occurred_at > \(context.now) - \(days) * interval '24 hours'"
        }
        if let filter { from += " AND " + filter.sql(payload: "seg_e.payload", into: &builder) }
        if sum == nil, count.count == 1 {
            // At least one (or none): EXISTS stops at the first index entry instead of counting them all.
            switch (count[0].op, count[0].operand) {
            case (.gte, .number(.int(1))), (.gt, .number(.int(0))):
                return "EXISTS (SELECT 1 \(from))"
            case (.eq, .number(.int(0))), (.lt, .number(.int(1))), (.lte, .number(.int(0))):
                return "NOT EXISTS (SELECT 1 \(from))"
            default: break
            }
        }
        // An aggregate without GROUP BY returns exactly one row, so the subquery is never NULL.
        var predicates = count.map { SQLPredicate.compare("count(*)", $0, &builder, numeric: false) }
        if let sum {
            let field = "(seg_e.payload #> \(builder.bind(.texts(sum.field))))"
            // Rows whose field is missing or not a number add nothing rather than abort the statement.
            let total = "coalesce(sum(CASE WHEN jsonb_typeof(\(field)) = 'number' THEN \(field)::numeric END), 0)"
            predicates += sum.comparisons.map { SQLPredicate.compare(total, $0, &builder) }
        }
        let aggregate = "(SELECT " + predicates.joined(separator: " AND ") + " \(from))"
        // A condition no customer without events can meet (count >= 2, sum >= 100) is preceded by EXISTS, which
        // the planner turns into a semi-join (hash or index probes, whichever is cheaper), so the per-customer
        // aggregate runs only for customers who have such events at all.
        return holdsWithoutEvents ? aggregate : "(EXISTS (SELECT 1 \(from)) AND \(aggregate))"
    }

    /// Whether a customer with no matching event (count 0, sum 0) meets the condition.
    var holdsWithoutEvents: Bool {
        (count + (sum?.comparisons ?? [])).allSatisfy { comparison in
            func zeroPasses(_ op: ComparisonOperator, _ value: Double) -> Bool {
                switch op {
                case .eq: return 0 == value
                case .ne: return 0 != value
                case .gt: return 0 > value
                case .gte: return 0 >= value
                case .lt: return 0 < value
                case .lte: return 0 <= value
                default: return true
                }
            }
            switch (comparison.op, comparison.operand) {
            case (.in, .numbers(let values)): return values.contains { $0.double == 0 }
            case (.notIn, .numbers(let values)): return !values.contains { $0.double == 0 }
            case (let op, .number(let value)): return zeroPasses(op, value.double)
            default: return true
            }
        }
    }
}
