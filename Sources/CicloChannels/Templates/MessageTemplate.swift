import Foundation
import Mustache

/// A variable a template may use, with the default that stands in when the send has no value for it.
/// A variable with no default is required: without a value the send is suppressed (`render_failed`), so a
/// half-empty message never goes out. An empty-string default makes a variable optional.
public struct TemplateVariable: Sendable, Codable, Hashable {
    public var name: String
    public var defaultValue: String?

    public init(_ name: String, default defaultValue: String? = nil) {
        self.name = name
        self.defaultValue = defaultValue
    }

    enum CodingKeys: String, CodingKey {
        case name
        case defaultValue = "default"
    }
}

/// A template that did not compile: names the template, the line and, when it is about a variable, the variable.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public var template: String
    public var line: Int
    public var variable: String?
    public var problem: String

    public var description: String {
        let what = variable.map { "variable \"\($0)\": " } ?? ""
        return "Template \(template), line \(line): \(what)\(problem)."
    }
}

/// A send that cannot be rendered: the variables with neither a value nor a default.
public struct RenderFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var template: String
    public var missing: [String]
    public var description: String {
        "Template \(template) cannot be rendered: no value and no default for \(missing.joined(separator: ", "))."
    }
    /// The suppression reason recorded for the send.
    public static let reason = "render_failed"
}

/// The parts of one message (e.g. subject, html and text for email; body for SMS), compiled once and checked: every
/// variable a part uses must be declared. Rendering is pure and thread-safe, so one compiled template serves every
/// send of a variant.
public struct MessageTemplate: Sendable {
    /// How a part's values are escaped: HTML parts escape `{{x}}`, text parts (subjects, SMS, push) do not.
    public enum PartKind: Sendable {
        case html, text
    }

    public let name: String
    public let variables: [TemplateVariable]
    private let parts: [String: MustacheTemplate]
    /// Every part in its plain form (see `PlainTemplate`), or nil when any part needs the Mustache engine.
    private let plainParts: [String: PlainTemplate]?
    private let names: Set<String>
    /// The text part derived from the HTML part once, for emails without a text part (see `DerivedText`).
    private let derivedText: DerivedText?
    /// The email parts compiled for splicing (see `SplicedBody`), when every part is plain and there is an HTML part.
    let emailParts: EmailParts?
    /// Whether a variable is one of the send's unsubscribe links (see `UnsubscribeLinks.needed`).
    public let declaresUnsubscribeLinks: Bool

    /// An email's subject and body parts in the forms `EmailRenderer.render(_:values:...)` splices values into.
    struct EmailParts: Sendable {
        var subject: PlainTemplate?
        var htmlTemplate: PlainTemplate
        var html: SplicedBody
        /// The template's own text part, or else the one derived from the HTML part, if any.
        var text: SplicedBody?
        var isTextDerived: Bool
        /// The HTML with slots for click and open tracking, when the values cannot change what tracking does.
        var trackedHTML: TrackedHTML?
    }

    /// Compiles every part. `parts` maps a part name to its kind and source.
    public init(name: String, parts: [String: (kind: PartKind, source: String)], variables: [TemplateVariable]) throws {
        self.name = name
        self.variables = variables
        declaresUnsubscribeLinks = variables.contains {
            $0.name == UnsubscribeLinks.urlVariable || $0.name == UnsubscribeLinks.mailtoVariable
        }
        var declared: Set<String> = []
        for variable in variables {
            guard TemplateScanner.isValidName(variable.name) else {
                throw TemplateError(template: name, line: 0, variable: variable.name,
                                    problem: "is not a valid name (letters, digits, _ and dots between them)")
            }
            guard declared.insert(variable.name).inserted else {
                throw TemplateError(template: name, line: 0, variable: variable.name, problem: "is declared twice")
            }
        }
        var compiled: [String: MustacheTemplate] = [:]
        var plain: [String: PlainTemplate]? = Self.hasNestedNames(declared) ? nil : [:]
        for (part, (kind, source)) in parts.sorted(by: { $0.key < $1.key }) {
            let partName = "\(name).\(part)"
            for use in try TemplateScanner.variables(in: source, template: partName) where !declared.contains(use.name) {
                throw TemplateError(template: partName, line: use.line, variable: use.name,
                                    problem: "is used but not declared; declare it with a default, or pass it with every send")
            }
            // The pragma goes on the first line itself, so the parser's line numbers stay the source's. HTML parts
            // escape with `PlainTemplate.htmlEscape` (bytes), not the engine's own HTML type (characters).
            let text = (kind == .text ? "{{% CONTENT_TYPE: TEXT}}" : Self.htmlPragma) + source
            do {
                let template = try MustacheTemplate(string: text)
                compiled[part] = template
                plain?[part] = PlainTemplate(
                    source: source, escapesValues: kind == .html, names: variables.map(\.name), compiled: template)
            } catch let error as MustacheTemplate.ParserError {
                throw TemplateError(template: partName, line: error.context.lineNumber, variable: nil,
                                    problem: "does not parse (\(error.error))")
            }
        }
        self.parts = compiled
        self.plainParts = plain?.count == compiled.count ? plain : nil
        self.names = declared
        derivedText = compiled["text"] == nil ? plain?["html"].flatMap { DerivedText(html: $0) } : nil
        emailParts = Self.emailParts(plainParts, derivedText, variableCount: variables.count)
    }

    /// The pragma that selects `ByteEscapedHTML`, registered with the engine the first time it is read.
    private static let htmlPragma: String = {
        MustacheContentTypes.register(ByteEscapedHTML(), named: "CICLO_HTML")
        return "{{% CONTENT_TYPE: CICLO_HTML}}"
    }()

    private static func emailParts(
        _ plain: [String: PlainTemplate]?, _ derived: DerivedText?, variableCount: Int
    ) -> EmailParts? {
        guard let plain, let htmlTemplate = plain["html"],
            let html = SplicedBody(htmlTemplate, variableCount: variableCount)
        else { return nil }
        let tracked = TrackedHTML(html: htmlTemplate, variableCount: variableCount)
        if let text = plain["text"] {
            guard let spliced = SplicedBody(text, variableCount: variableCount) else { return nil }
            return EmailParts(
                subject: plain["subject"], htmlTemplate: htmlTemplate, html: html, text: spliced, isTextDerived: false,
                trackedHTML: tracked)
        }
        return EmailParts(
            subject: plain["subject"], htmlTemplate: htmlTemplate, html: html,
            text: derived.flatMap { SplicedBody($0.text, variableCount: variableCount) }, isTextDerived: true,
            trackedHTML: tracked)
    }

    /// One value per declared variable, defaults filled in, or the variables that have neither.
    func resolve(_ values: [String: String]) -> Result<[String], RenderFailure> {
        var resolvedValues: [String] = []
        resolvedValues.reserveCapacity(variables.count)
        var missing: [String] = []
        for variable in variables {
            if let value = values[variable.name] ?? variable.defaultValue {
                resolvedValues.append(value)
            } else {
                missing.append(variable.name)
            }
        }
        if !missing.isEmpty { return .failure(RenderFailure(template: name, missing: missing)) }
        return .success(resolvedValues)
    }

    /// The failure `render` would report for `values`, or nil when every variable has a value or a default.
    public func missingVariables(_ values: [String: String]) -> RenderFailure? {
        if case .failure(let failure) = resolve(values) { return failure }
        return nil
    }

    /// Whether the derived text template gives the text for these values (see `DerivedText.applies`).
    func derivedTextApplies(_ resolvedValues: [String]) -> Bool {
        derivedText?.applies(resolvedValues) ?? false
    }

    /// The part names this template has.
    public var partNames: [String] { parts.keys.sorted() }

    /// Renders every part with `values`, falling back to each variable's default; fails, naming them, when a
    /// declared variable has neither. Values for names the template does not declare are ignored.
    public func render(_ values: [String: String]) -> Result<[String: String], RenderFailure> {
        render(values, derivingTextFromHTML: false)
    }

    /// Renders every part as `render(_:)` does and, when `derivingTextFromHTML` is set and the template has an
    /// `html` part but no `text` part, adds a `text` part: exactly the text the email renderer would derive from the
    /// rendered HTML, worked out from a text template derived once when the values allow it.
    public func render(
        _ values: [String: String], derivingTextFromHTML: Bool
    ) -> Result<[String: String], RenderFailure> {
        let resolvedValues: [String]
        switch resolve(values) {
        case .success(let resolved): resolvedValues = resolved
        case .failure(let failure): return .failure(failure)
        }
        var output = renderParts(resolvedValues)
        if derivingTextFromHTML && parts["text"] == nil, let html = output["html"] {
            output["text"] = derivedText?.render(resolvedValues) ?? HTMLText.plainText(fromHTML: html)
        }
        return .success(output)
    }

    /// Whether the text part is derived once from the HTML template (for tests).
    var derivesText: Bool { derivedText != nil }

    /// Whether every part renders without the engine (for tests).
    var isPlain: Bool { plainParts != nil }

    /// The text from the derived template for `values` (defaults filled in), or nil when it does not apply.
    func derivedText(_ values: [String: String]) -> String? {
        derivedText?.render(variables.map { values[$0.name] ?? $0.defaultValue ?? "" })
    }

    /// Every part, with one value per declared variable.
    private func renderParts(_ resolvedValues: [String]) -> [String: String] {
        if let plainParts { return plainParts.mapValues { $0.render(resolvedValues) } }
        let resolved = Dictionary(uniqueKeysWithValues: zip(variables.map(\.name), resolvedValues))
        // An empty value is left out of the context, so `{{#x}}` treats it as absent, as Mustache users expect;
        // `{{x}}` renders it as nothing either way.
        let context = Self.nest(resolved.filter { !$0.value.isEmpty })
        var output: [String: String] = [:]
        for (part, template) in parts { output[part] = template.render(context) }
        return output
    }

    /// Whether a declared name is a prefix of another (`customer` and `customer.name`): `nest` then makes one
    /// of them shadow the other, depending on dictionary order, which only the engine may decide.
    private static func hasNestedNames(_ names: Set<String>) -> Bool {
        names.contains { name in
            var prefix = Substring(name)
            while let dot = prefix.lastIndex(of: ".") {
                prefix = prefix[..<dot]
                if names.contains(String(prefix)) { return true }
            }
            return false
        }
    }

    /// Dotted names become nested dictionaries, so `{{customer.first_name}}` resolves as Mustache expects.
    static func nest(_ flat: [String: String]) -> [String: Any] {
        var root: [String: Any] = [:]
        for (name, value) in flat {
            let path = name.split(separator: ".").map(String.init)
            root = insert(value, at: path[...], into: root)
        }
        return root
    }

    private static func insert(_ value: String, at path: ArraySlice<String>, into node: [String: Any]) -> [String: Any] {
        var node = node
        guard let head = path.first else { return node }
        if path.count == 1 {
            node[head] = value
        } else {
            let child = node[head] as? [String: Any] ?? [:]
            node[head] = insert(value, at: path.dropFirst(), into: child)
        }
        return node
    }
}

/// HTML escaping for the engine's templates (those with sections), the same as the plain path's: swift-mustache's
/// own HTML type compares `Character`s, and leaves a `<` that a prepend mark joins (`"\u{600}<"`) unescaped.
struct ByteEscapedHTML: MustacheContentType {
    func escapeText(_ text: String) -> String { PlainTemplate.htmlEscape(text) }
}
