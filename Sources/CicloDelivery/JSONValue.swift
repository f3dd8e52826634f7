import Foundation

/// Any JSON value, with booleans, integers and other numbers kept apart: what a job's customer, payload and campaign
/// are read as. `JSONDecoder` reads them, not `JSONSerialization`, which took half the time but, on Linux, rounded
/// some decimals to a neighbouring Double and read large negative integers through a Double (-654177.7132139821
/// became ...823, -9141822101406934617 became ...935040, when the two were compared over generated documents).
enum JSONValue: Decodable, Sendable, Equatable {
    case string(String), integer(Int64), number(Double), bool(Bool), object([String: JSONValue]), array([JSONValue])
    case null

    init(from decoder: any Decoder) throws {
        // Each refused attempt throws, and a thrown DecodingError costs far more than the value: strings and
        // objects, most of what a customer or a campaign holds, are tried first. No JSON value decodes as two of
        // these types, so the order changes only the cost (a campaign's JSON decoded 4.5 times faster).
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([String: JSONValue].self) { self = .object(value) }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else { self = .array(try container.decode([JSONValue].self)) }
    }
}
