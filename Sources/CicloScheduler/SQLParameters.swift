import CicloCampaigns
import Postgres

extension SQLValue {
    /// The client parameter for a value bound by generated SQL (segments, rules).
    var parameter: any PostgresEncodable {
        switch self {
        case .text(let value): return value
        case .int(let value): return value
        case .double(let value): return value
        case .bool(let value): return value
        case .texts(let value): return value
        case .timestamp(let value): return value
        }
    }
}

extension SQLBuilder {
    /// The builder's values as client parameters, to append after the statement's own.
    public var parameters: [any PostgresEncodable] { values.map(\.parameter) }
}
