import Postgres

/// A customer as a handler reads it: the contact and profile columns, and each scalar attribute, as text. The
/// claim returns it as one text array that the server builds (`SendQueue.sendColumnsSQL`): a JSON object parsed
/// with `JSONDecoder` for every job was the largest cost of a real email send in the worker.
public struct CustomerText: Sendable, Hashable {
    /// The columns the array starts with, in its order; absent values are NULL.
    public static let columns = [
        "external_id", "email", "phone", "push_token", "locale", "timezone", "stage", "persona",
    ]

    /// The columns that are not NULL, by name (an empty one too: a template renders it as empty).
    public var fields: [String: String]
    /// Attributes that are strings, numbers or booleans, as PostgreSQL writes them (a number keeps its digits:
    /// 9.90 stays "9.90"); nested objects and arrays are left out.
    public var attributes: [String: String]

    public init(fields: [String: String] = [:], attributes: [String: String] = [:]) {
        self.fields = fields
        self.attributes = attributes
    }

    /// From the claim's array: `columns.count` values, then attribute names and values in pairs.
    public init(claimed array: [String?]) throws {
        guard array.count >= Self.columns.count, (array.count - Self.columns.count).isMultiple(of: 2) else {
            throw CustomerTextError(count: array.count)
        }
        var fields: [String: String] = [:]
        for (name, value) in zip(Self.columns, array) {
            if let value { fields[name] = value }
        }
        var attributes: [String: String] = [:]
        var index = Self.columns.count
        while index < array.count {
            if let name = array[index], let value = array[index + 1] { attributes[name] = value }
            index += 2
        }
        self.init(fields: fields, attributes: attributes)
    }

    /// The SQL for one customer `c`'s array.
    static let arraySQL = """
        ARRAY[\(columns.map { "c.\($0)" }.joined(separator: ", "))]
            || coalesce((SELECT array_agg(p.part ORDER BY a.key, p.i)
                         FROM jsonb_each_text(c.attributes) a
                         CROSS JOIN LATERAL (VALUES (1, a.key), (2, a.value)) p(i, part)
                         WHERE jsonb_typeof(c.attributes -> a.key) IN ('string', 'number', 'boolean')), '{}')
        """
}

/// Read straight from the claim's column, so every query that selects `sendColumnsSQL` decodes it the same way.
extension CustomerText: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        try self.init(claimed: [String?](postgresCell: cell))
    }
}

/// The claim's customer array had a shape no claim writes.
public struct CustomerTextError: Error, CustomStringConvertible {
    public let count: Int
    public var description: String {
        "a claimed customer has \(count) values; the claim writes \(CustomerText.columns.count) columns and then pairs"
    }
}
