import Foundation

/// The plain-text alternative of an HTML email, for clients that show text and for spam filters, which mark down
/// HTML-only mail.
///
/// Not a browser: it does not apply CSS (a `display:none` preheader stays in), and it reads the tag soup that email
/// builders produce well enough: comments, doctype and unknown tags vanish, `<head>`, `<style>`, `<script>` and
/// `<title>` vanish with their content, block elements end lines, links become "text (url)", images give their alt
/// text, entities are decoded and white space collapses as a browser would collapse it.
enum HTMLText {
    static func plainText(fromHTML html: String) -> String {
        var reader = HTMLReader(html)
        return reader.read()
    }
}

private struct HTMLReader {
    /// Content the reader drops, with everything inside.
    static let hidden: Set<String> = ["head", "style", "script", "title", "template", "noscript"]
    /// Elements that end a paragraph: a blank line around them.
    static let paragraphs: Set<String> = [
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "pre", "dl", "hr", "address",
        "figure",
    ]
    /// Elements that end a line.
    static let lines: Set<String> = [
        "div", "li", "tr", "section", "article", "header", "footer", "nav", "aside", "main", "center", "dt", "dd",
        "form", "fieldset", "figcaption", "tbody", "thead", "tfoot", "body", "html", "caption",
    ]

    let scalars: [Unicode.Scalar]
    var position = 0
    var text = TextCollector()
    /// Open links: where the link's text starts in the output, and its target.
    var links: [(start: Int, href: String)] = []

    init(_ html: String) { scalars = Array(html.unicodeScalars) }

    mutating func read() -> String {
        while position < scalars.count {
            if scalars[position] == "<" && readMarkup() { continue }
            let start = position
            position += 1
            while position < scalars.count && scalars[position] != "<" { position += 1 }
            text.append(HTMLEntities.decode(scalars[start..<position]))
        }
        return text.output
    }

    /// Reads a tag, comment or declaration at `position`; false when the "<" is just text.
    private mutating func readMarkup() -> Bool {
        if starts(with: "<!--") {
            position = find("-->").map { $0 + 3 } ?? scalars.count
            return true
        }
        guard position + 1 < scalars.count else { return false }
        let next = scalars[position + 1]
        if next == "!" || next == "?" {
            position = find(">").map { $0 + 1 } ?? scalars.count
            return true
        }
        guard next == "/" || next.properties.isAlphabetic else { return false }
        let tag = HTMLTag(scalars, at: position)
        position = tag.end
        handle(tag)
        return true
    }

    private mutating func handle(_ tag: HTMLTag) {
        if Self.hidden.contains(tag.name) && !tag.isClosing && !tag.isSelfClosing {
            skipHidden(tag.name)
        } else if tag.name == "br" {
            text.lineBreak(1)
        } else if Self.paragraphs.contains(tag.name) {
            text.lineBreak(2)
        } else if tag.name == "li" && !tag.isClosing {
            text.lineBreak(1)
            text.append("- ")
        } else if Self.lines.contains(tag.name) {
            text.lineBreak(1)
        } else if (tag.name == "td" || tag.name == "th") && tag.isClosing {
            text.append(" ")
        } else if tag.name == "img", let alt = tag.attributes["alt"] {
            text.append(alt)
        } else if tag.name == "a" && !tag.isClosing && !tag.isSelfClosing {
            links.append((text.output.utf8.count, tag.attributes["href"] ?? ""))
        } else if tag.name == "a" && tag.isClosing, let link = links.popLast() {
            closeLink(link)
        }
    }

    /// Writes the link's target after its text, unless it adds nothing (same as the text, an anchor, script).
    private mutating func closeLink(_ link: (start: Int, href: String)) {
        let href = link.href.trimmingCharacters(in: .whitespaces)
        let lowered = href.lowercased()
        guard !href.isEmpty, !href.hasPrefix("#"), !lowered.hasPrefix("javascript:") else { return }
        let label = String(decoding: text.output.utf8.dropFirst(link.start), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if label.isEmpty {
            text.append(" " + href)
        } else if label != href && "mailto:" + label != href && "tel:" + label != href {
            text.append(" (" + href + ")")
        }
    }

    /// Skips to the end of a hidden element. A `<head>` without its end tag ends where `<body>` starts.
    private mutating func skipHidden(_ name: String) {
        var end = find("</" + name)
        if name == "head", let body = find("<body"), body < (end ?? scalars.count) { end = body }
        guard let end else {
            if name != "head" { position = scalars.count }
            return
        }
        position = end
        if scalars[end + 1] == "/" { position = find(">").map { $0 + 1 } ?? scalars.count }
    }

    private func starts(with prefix: String) -> Bool {
        scalars[position...].starts(with: prefix.unicodeScalars)
    }

    /// The first index at or after `position` where `needle` starts, ignoring ASCII case.
    private func find(_ needle: String) -> Int? {
        let needle = Array(needle.lowercased().unicodeScalars)
        guard scalars.count >= needle.count else { return nil }
        var index = position
        while index + needle.count <= scalars.count {
            if zip(scalars[index..<index + needle.count], needle).allSatisfy({ HTMLTag.lowercased($0) == $1 }) {
                return index
            }
            index += 1
        }
        return nil
    }
}
