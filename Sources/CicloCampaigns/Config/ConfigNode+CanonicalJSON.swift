import Foundation
import Yams

extension ConfigNode {
    /// The node as compact JSON with sorted keys, scalars typed the YAML way: how a validated piece of a
    /// configuration file (a payload filter) is stored in a jsonb column, to be read back with `ConfigNode.parse`.
    public func canonicalJSON() throws(ConfigError) -> String {
        switch node {
        case .mapping:
            let entries = try anyMapping().entries.sorted { $0.key < $1.key }
            var parts: [String] = []
            for entry in entries {
                parts.append(Self.jsonString(entry.key) + ":" + (try entry.node.canonicalJSON()))
            }
            return "{" + parts.joined(separator: ",") + "}"
        case .sequence:
            var parts: [String] = []
            for item in try sequence() { parts.append(try item.canonicalJSON()) }
            return "[" + parts.joined(separator: ",") + "]"
        default:
            switch try value() {
            case .null: return "null"
            case .bool(let value): return value ? "true" : "false"
            case .int(let value): return String(value)
            case .double(let value): return "\(value)"
            case .string(let value): return Self.jsonString(value)
            }
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped. The one escaper every JSON
    /// writer of the domain uses.
    public static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
