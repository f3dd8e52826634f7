import CicloChannels
import Foundation

extension Campaign.Channel {
    /// The template parts the channel's handler reads (nil: any part, as webhooks forward them all), and the
    /// parts it cannot do without (each inner list: at least one of them).
    var parts: (allowed: [String]?, required: [[String]]) {
        switch self {
        case .email: return (["subject", "html", "text"], [["subject"], ["html"]])
        case .sms: return (["body"], [["body"]])
        case .push: return (["title", "body", "deep_link"], [["title", "body"]])
        case .webhook: return (nil, [])
        }
    }
}

/// Reads the variants and compiles each template the way workers will (see CicloDelivery's TemplateStore), so
/// a template that would not render is refused when the campaign is applied.
struct TemplateReader {
    let campaignKey: String
    let channel: Campaign.Channel

    func variants(_ node: ConfigNode) throws(ConfigError) -> [Variant] {
        var variants: [Variant] = []
        for item in try node.sequence() {
            let map = try item.mapping(allowing: ["name", "persona", "templates"])
            let nameNode = try map.required("name")
            let name = try nameNode.name()
            if variants.contains(where: { $0.name == name }) {
                throw nameNode.error("variant \"\(name)\" is given twice")
            }
            guard let templatesNode = map["templates"] else {
                throw item.error("variant \"\(name)\" has no templates; give one per locale, such as en: {...}")
            }
            var templates: [LocalizedTemplate] = []
            for (locale, template) in try templatesNode.anyMapping().entries {
                guard Self.isLocale(locale) else {
                    throw template.error("\"\(locale)\" is not a locale such as en, pt or pt-BR")
                }
                templates.append(try self.template(template, variant: name, locale: locale))
            }
            if templates.isEmpty {
                throw templatesNode.error(
                    "variant \"\(name)\" has no templates; give one per locale, such as en: {...}")
            }
            // Sorted, so the campaign read back from jsonb (which orders keys its own way) is the same.
            templates.sort { $0.locale < $1.locale }
            variants.append(Variant(name: name, tone: nil, persona: try map["persona"]?.name(), templates: templates))
        }
        if variants.isEmpty { throw node.error("a campaign needs at least one variant") }
        return variants
    }

    private func template(_ node: ConfigNode, variant: String, locale: String) throws(ConfigError)
        -> LocalizedTemplate
    {
        let map = try node.anyMapping()
        let (allowed, required) = channel.parts
        var parts: [String: String] = [:]
        var partNodes: [String: ConfigNode] = [:]
        var variables: [TemplateVariable] = []
        var variablesNode: ConfigNode?
        for (name, value) in map.entries {
            if name == "variables" {
                variablesNode = value
                variables = try Self.variables(value)
                continue
            }
            if let allowed, !allowed.contains(name) {
                throw value.error("\(channel.rawValue) campaigns do not use a \"\(name)\" part; their templates have "
                    + allowed.joined(separator: ", ") + " and variables")
            }
            guard Self.isVariableName(name), !name.contains(".") else {
                throw value.error("\"\(name)\" is not a part name (letters, digits and _)")
            }
            parts[name] = try value.string()
            partNodes[name] = value
        }
        for needed in required where !needed.contains(where: { parts[$0] != nil }) {
            throw node.error("the \(locale) template of variant \"\(variant)\" has no "
                + needed.joined(separator: " or ") + " part, which \(channel.rawValue) messages need")
        }
        if parts.isEmpty { throw node.error("the \(locale) template of variant \"\(variant)\" has no parts") }

        let name = "\(campaignKey)/\(variant)/\(locale)"
        // As the worker compiles it: only the html part escapes values for HTML.
        var sources: [String: (kind: MessageTemplate.PartKind, source: String)] = [:]
        for (part, source) in parts { sources[part] = (part == "html" ? .html : .text, source) }
        do {
            _ = try MessageTemplate(name: name, parts: sources, variables: variables)
        } catch let error as TemplateError {
            throw Self.configError(error, template: name, node: node, partNodes: partNodes, variables: variablesNode)
        } catch {
            throw node.error("template \(name) does not compile: \(error)")
        }
        return LocalizedTemplate(locale: locale, parts: parts, variables: variables.map { ($0.name, $0.defaultValue) })
    }

    /// `variables: [{name: customer.first_name, default: there}, offer_code]`.
    private static func variables(_ node: ConfigNode) throws(ConfigError) -> [TemplateVariable] {
        var variables: [TemplateVariable] = []
        for item in try node.sequence() {
            if item.isScalar {
                variables.append(TemplateVariable(try item.name()))
                continue
            }
            let map = try item.mapping(allowing: ["name", "default"])
            variables.append(TemplateVariable(try map.required("name").name(), default: try map["default"]?.string()))
        }
        return variables
    }

    /// A template error as a file error: at the line of the part (counted inside it) or of the variables list.
    static func configError(
        _ error: TemplateError, template: String, node: ConfigNode, partNodes: [String: ConfigNode],
        variables: ConfigNode?
    ) -> ConfigError {
        let part = error.template.hasPrefix(template + ".") ? String(error.template.dropFirst(template.count + 1)) : nil
        let what = error.variable.map { ": variable \"\($0)\"" } ?? ""
        let problem = "template \(error.template)\(what) \(error.problem)"
        if let part, let partNode = partNodes[part] {
            return ConfigError(file: partNode.file, line: fileLine(of: partNode, templateLine: error.line),
                               path: partNode.path, problem: problem)
        }
        let at = variables ?? node
        return ConfigError(file: at.file, line: at.line, path: at.path, problem: problem)
    }

    /// The file line of a line inside a part's text: a block scalar (`|`, `>`) starts on the line after its
    /// indicator; any other scalar on its own line.
    static func fileLine(of node: ConfigNode, templateLine: Int) -> Int? {
        guard let start = node.line else { return nil }
        guard templateLine > 0 else { return start }
        return node.isBlockScalar ? start + templateLine : start + templateLine - 1
    }

    /// The template variable grammar: letters, digits and _, dots between segments.
    static func isVariableName(_ name: String) -> Bool {
        let segments = name.split(separator: ".", omittingEmptySubsequences: false)
        return !segments.isEmpty && segments.allSatisfy { segment in
            guard let first = segment.first, first.isASCII, first.isLetter || first == "_" else { return false }
            return segment.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        }
    }

    /// en, pt, pt-BR, zh-Hant-TW: a language and optional subtags.
    static func isLocale(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard let language = parts.first, (2...3).contains(language.count),
              language.allSatisfy({ $0.isASCII && $0.isLowercase })
        else { return false }
        return parts.dropFirst().allSatisfy { subtag in
            (1...8).contains(subtag.count) && subtag.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
        }
    }
}
