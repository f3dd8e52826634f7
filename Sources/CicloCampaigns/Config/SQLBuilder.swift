import Foundation

/// A value bound to a parameter of generated SQL. The domain builds SQL with these and never touches the database
/// client; the module that runs the statement turns them into the client's parameters.
public enum SQLValue: Sendable, Equatable {
    case text(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case texts([String])
    case timestamp(Date)
}

/// Builds a statement's parameter list while its text is generated. Every value goes in as a numbered parameter
/// with an explicit cast, so generated SQL never carries a value in its text.
public struct SQLBuilder: Sendable {
    /// The parameters, in order; the first is `$(firstIndex)`.
    public private(set) var values: [SQLValue] = []
    public let firstIndex: Int

    /// `firstIndex` leaves room for the parameters the surrounding statement binds itself ($1 ... $(firstIndex-1)).
    public init(firstIndex: Int = 1) {
        self.firstIndex = firstIndex
    }

    /// Binds a value and returns its placeholder with a cast, such as `$4::text`.
    public mutating func bind(_ value: SQLValue) -> String {
        values.append(value)
        let index = firstIndex + values.count - 1
        switch value {
        case .text: return "$\(index)::text"
        case .int: return "$\(index)::int8"
        case .double: return "$\(index)::float8"
        case .bool: return "$\(index)::bool"
        case .texts: return "$\(index)::text[]"
        case .timestamp: return "$\(index)::timestamptz"
        }
    }
}
