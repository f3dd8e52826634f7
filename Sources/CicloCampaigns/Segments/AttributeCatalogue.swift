/// The customer attributes a deployment declares, with their types. Segments may only name declared attributes
/// (a typo is an error, not an empty segment), and comparisons cast the jsonb value to the declared type.
public struct AttributeCatalogue: Sendable, Equatable {
    public enum AttributeType: String, Sendable, CaseIterable {
        case text, number, boolean, date, list
    }

    public var types: [String: AttributeType]

    public init(_ types: [String: AttributeType] = [:]) {
        self.types = types
    }

    public subscript(name: String) -> AttributeType? { types[name] }
}
