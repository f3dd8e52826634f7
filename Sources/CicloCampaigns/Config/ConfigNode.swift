import Yams

/// A problem in a configuration file (a campaign, a segment, the lifecycle settings), named by where it is: the
/// file, the line, and the path of keys leading to it, so an operator can go straight to it.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    /// Keys and indexes from the document root, such as `segment.all[2].attribute`; empty for the root.
    public var path: String
    public var problem: String

    public init(file: String, line: Int?, path: String, problem: String) {
        self.file = file
        self.line = line
        self.path = path
        self.problem = problem
    }

    public var description: String {
        let place = file + (line.map { ":\($0)" } ?? "")
        return path.isEmpty ? "\(place): \(problem)" : "\(place): \(path): \(problem)"
    }
}

/// One node of a YAML (or JSON, which YAML reads too) document, with its place in the file. Readers walk the
/// document through it and every error they raise names the file, line and key path.
public struct ConfigNode {
    let node: Node
    public let file: String
    public let path: String

    init(node: Node, file: String, path: String) {
        self.node = node
        self.file = file
        self.path = path
    }

    /// Parses a whole document. An empty document is an error: a configuration file always says something.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> ConfigNode {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError(file: file, line: Self.line(of: error), path: "", problem: "not valid YAML or JSON: \(Self.summary(of: error))")
        } catch {
            throw ConfigError(file: file, line: nil, path: "", problem: "not valid YAML or JSON")
        }
        guard let root else { throw ConfigError(file: file, line: 1, path: "", problem: "the document is empty") }
        return ConfigNode(node: root, file: file, path: "")
    }

    public var line: Int? { node.mark?.line }

    public func error(_ problem: String) -> ConfigError {
        ConfigError(file: file, line: line, path: path, problem: problem)
    }

    /// True for an explicit YAML null (`~`, `null` or nothing after the key).
    public var isNull: Bool {
        if case .scalar(let scalar) = node { return scalar.style == .plain && node.null != nil }
        return false
    }

    // MARK: Scalars

    private func scalar(_ expected: String) throws(ConfigError) -> Node.Scalar {
        switch node {
        case .scalar(let scalar): return scalar
        case .alias: throw error("YAML anchors and aliases are not supported; write the value out")
        case .mapping: throw error("expected \(expected), found a mapping")
        case .sequence: throw error("expected \(expected), found a list")
        }
    }

    public func string() throws(ConfigError) -> String {
        let scalar = try scalar("a string")
        if isNull { throw error("expected a string, found null") }
        return scalar.string
    }

    /// A string that must not be empty or only spaces.
    public func name() throws(ConfigError) -> String {
        let value = try string()
        if value.allSatisfy(\.isWhitespace) { throw error("must not be empty") }
        return value
    }

    public func int() throws(ConfigError) -> Int {
        let scalar = try scalar("an integer")
        guard scalar.style == .plain || scalar.style == .any, let value = Int(scalar.string) else {
            throw error("expected an integer, found \"\(scalar.string)\"")
        }
        return value
    }

    public func double() throws(ConfigError) -> Double {
        let scalar = try scalar("a number")
        guard scalar.style == .plain || scalar.style == .any, let value = Double(scalar.string), value.isFinite else {
            throw error("expected a number, found \"\(scalar.string)\"")
        }
        return value
    }

    public func bool() throws(ConfigError) -> Bool {
        let scalar = try scalar("true or false")
        switch scalar.string {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: throw error("expected true or false, found \"\(scalar.string)\"")
        }
    }

    /// A scalar as it is, with its type resolved the YAML way: for values compared with data (attributes, payload
    /// fields) whose type the reader does not know in advance.
    public func value() throws(ConfigError) -> ConfigScalar {
        let scalar = try scalar("a value")
        if scalar.style != .plain && scalar.style != .any { return .string(scalar.string) }
        if node.null != nil { return .null }
        if let value = node.bool { return .bool(value) }
        if let value = node.int { return .int(Int64(value)) }
        if let value = node.float, value.isFinite { return .double(value) }
        return .string(scalar.string)
    }

    // MARK: Collections

    public func sequence() throws(ConfigError) -> [ConfigNode] {
        switch node {
        case .sequence(let sequence):
            return sequence.enumerated().map { ConfigNode(node: $1, file: file, path: "\(path)[\($0)]") }
        case .alias: throw error("YAML anchors and aliases are not supported; write the value out")
        default: throw error("expected a list")
        }
    }

    /// A list of strings; a single string is taken as a list of one.
    public func strings() throws(ConfigError) -> [String] {
        if case .scalar = node { return [try string()] }
        var result: [String] = []
        for item in try sequence() { result.append(try item.string()) }
        return result
    }

    /// The node as a mapping whose keys must all be in `allowed`. An unknown key is an error that names it and
    /// lists the keys that are allowed, so a typo never passes silently.
    public func mapping(allowing allowed: Set<String>) throws(ConfigError) -> ConfigMapping {
        let mapping = try anyMapping()
        for key in mapping.keys where !allowed.contains(key) {
            let child = mapping.entries.first { $0.key == key }!.node
            throw ConfigError(
                file: file, line: child.line, path: path,
                problem: "unknown field \"\(key)\"; expected one of: \(allowed.sorted().joined(separator: ", "))")
        }
        return mapping
    }

    /// The node as a mapping with any keys (attribute names, variables).
    public func anyMapping() throws(ConfigError) -> ConfigMapping {
        switch node {
        case .mapping(let mapping):
            var entries: [(key: String, node: ConfigNode)] = []
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let key) = keyNode else {
                    throw ConfigError(file: file, line: keyNode.mark?.line, path: path, problem: "keys must be strings")
                }
                if entries.contains(where: { $0.key == key.string }) {
                    throw ConfigError(file: file, line: keyNode.mark?.line, path: path, problem: "duplicate key \"\(key.string)\"")
                }
                let childPath = path.isEmpty ? key.string : "\(path).\(key.string)"
                entries.append((key.string, ConfigNode(node: valueNode, file: file, path: childPath)))
            }
            return ConfigMapping(node: self, entries: entries)
        case .alias: throw error("YAML anchors and aliases are not supported; write the value out")
        case .scalar where isNull: throw error("expected a mapping, found null")
        default: throw error("expected a mapping")
        }
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }

    private static func summary(of error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
             .composer(let context, let problem, _, _):
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        default:
            return "\(error)"
        }
    }
}

/// A scalar value whose type came from the document itself.
public enum ConfigScalar: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
}

/// A mapping node's entries in document order.
public struct ConfigMapping {
    public let node: ConfigNode
    public let entries: [(key: String, node: ConfigNode)]

    public var keys: [String] { entries.map(\.key) }

    public subscript(key: String) -> ConfigNode? {
        guard let node = entries.first(where: { $0.key == key })?.node, !node.isNull else { return nil }
        return node
    }

    /// The value of a key that must be present and not null.
    public func required(_ key: String) throws(ConfigError) -> ConfigNode {
        guard let value = self[key] else { throw node.error("missing required field \"\(key)\"") }
        return value
    }
}
