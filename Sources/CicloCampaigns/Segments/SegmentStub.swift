// TEMPORARY STUB, replaced by the segment language (Segment.swift and friends). Only the API surface is fixed here.

/// A segment: a rule over customers that compiles to a SQL boolean expression.
public struct Segment: Sendable {
    /// Reads a segment rule (the value of a `segment:` or `rule:` key). Unknown fields and operators are errors.
    public static func parse(_ node: ConfigNode, catalogue: AttributeCatalogue) throws(ConfigError) -> Segment {
        Segment()
    }

    /// A boolean SQL expression over the customers row aliased `customer`, as of the instant `now` (an SQL
    /// expression such as `$2::timestamptz`), with every value bound through `builder`.
    public func sql(customer: String, now: String, into builder: inout SQLBuilder) -> String {
        "true"
    }

    /// The rule's canonical JSON, which `parse` reads back to an equal segment.
    public var json: String { "{}" }
}

/// A condition over an event's payload (trigger filters, experience tones).
public struct PayloadFilter: Sendable {
    public static func parse(_ node: ConfigNode) throws(ConfigError) -> PayloadFilter {
        PayloadFilter()
    }

    /// A boolean SQL expression over the jsonb expression `payload`.
    public func sql(payload: String, into builder: inout SQLBuilder) -> String {
        "true"
    }
}
