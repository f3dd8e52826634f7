import Yams

extension ConfigNode {
    /// The node as compact JSON, keys in document order. Scalars keep the type the YAML reader gives them (the
    /// rules of `value()`), so reading the JSON back with `ConfigNode.parse` answers every typed reader the same:
    /// numbers stay numbers with their digits as written, quoted text stays text, `~` stays null.
    public var json: String {
        var output = ""
        Self.write(node, to: &output)
        return output
    }

    private static func write(_ node: Node, to output: inout String) {
        switch node {
        case .scalar(let scalar):
            output += scalarJSON(node, scalar)
        case .sequence(let sequence):
            output += "["
            for (index, item) in sequence.enumerated() {
                if index > 0 { output += "," }
                write(item, to: &output)
            }
            output += "]"
        case .mapping(let mapping):
            output += "{"
            for (index, (key, value)) in mapping.enumerated() {
                if index > 0 { output += "," }
                output += quoted(key.scalar?.string ?? "")
                output += ":"
                write(value, to: &output)
            }
            output += "}"
        case .alias:
            // Readers refuse aliases before a document is converted; null keeps the output valid regardless.
            output += "null"
        }
    }

    private static func scalarJSON(_ node: Node, _ scalar: Node.Scalar) -> String {
        guard scalar.style == .plain || scalar.style == .any else { return quoted(scalar.string) }
        if node.null != nil { return "null" }
        if let value = node.bool { return value ? "true" : "false" }
        if isJSONNumber(scalar.string) { return scalar.string }
        if let value = node.int { return String(value) }
        if let value = node.float, value.isFinite { return "\(value)" }
        return quoted(scalar.string)
    }

    /// JSON's number grammar: such text goes out as written, so `1.50` read as text later is still `1.50`.
    static func isJSONNumber(_ text: String) -> Bool {
        var rest = Substring(text)
        if rest.hasPrefix("-") { rest = rest.dropFirst() }
        let integer = rest.prefix { $0.isASCII && $0.isNumber }
        guard !integer.isEmpty, integer == "0" || !integer.hasPrefix("0") else { return false }
        rest = rest.dropFirst(integer.count)
        if rest.hasPrefix(".") {
            let fraction = rest.dropFirst().prefix { $0.isASCII && $0.isNumber }
            guard !fraction.isEmpty else { return false }
            rest = rest.dropFirst(1 + fraction.count)
        }
        if rest.hasPrefix("e") || rest.hasPrefix("E") {
            rest = rest.dropFirst()
            if rest.hasPrefix("+") || rest.hasPrefix("-") { rest = rest.dropFirst() }
            let exponent = rest.prefix { $0.isASCII && $0.isNumber }
            guard !exponent.isEmpty else { return false }
            rest = rest.dropFirst(exponent.count)
        }
        return rest.isEmpty
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String { jsonString(text) }
}
