import Foundation

/// Finds the variables a Mustache source uses, with their lines, so that a template using an undeclared variable
/// is refused when its campaign is saved rather than rendering a hole at send time.
enum TemplateScanner {
    struct Use: Equatable {
        var name: String
        var line: Int
    }

    static func isValidName(_ name: String) -> Bool {
        let segments = name.split(separator: ".", omittingEmptySubsequences: false)
        return !segments.isEmpty && segments.allSatisfy { segment in
            guard let first = segment.first, first.isLetter || first == "_" else { return false }
            return segment.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        }
    }

    /// Every tag's variable: `{{x}}`, `{{{x}}}`, `{{&x}}`, `{{#x}}`, `{{^x}}`. Comments, partials, pragmas and
    /// closing tags name no new variable. Changing delimiters is refused: it would hide tags from this scan.
    static func variables(in source: String, template: String) throws -> [Use] {
        var uses: [Use] = []
        var line = 1
        var index = source.startIndex
        while let open = source[index...].range(of: "{{") {
            line += source[index..<open.lowerBound].filter(\.isNewline).count
            let triple = source[open.upperBound...].hasPrefix("{")
            let closeToken = triple ? "}}}" : "}}"
            let contentStart = triple ? source.index(after: open.upperBound) : open.upperBound
            guard let close = source[contentStart...].range(of: closeToken) else {
                throw TemplateError(template: template, line: line, variable: nil, problem: "has a tag that is never closed")
            }
            var tag = source[contentStart..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            line += source[open.lowerBound..<close.upperBound].filter(\.isNewline).count
            index = close.upperBound
            guard let sigil = tag.first else {
                throw TemplateError(template: template, line: line, variable: nil, problem: "has an empty tag")
            }
            switch sigil {
            case "!", ">", "%", "/": continue
            case "=":
                throw TemplateError(template: template, line: line, variable: nil,
                                    problem: "changes the tag delimiters, which Ciclo does not allow")
            case "#", "^", "&":
                tag = String(tag.dropFirst()).trimmingCharacters(in: .whitespaces)
            default: break
            }
            if tag == "." { continue }  // the current item inside a section
            guard isValidName(tag) else {
                throw TemplateError(template: template, line: line, variable: tag,
                                    problem: "is not a valid name (letters, digits, _ and dots between them)")
            }
            uses.append(Use(name: tag, line: line))
        }
        return uses
    }
}
