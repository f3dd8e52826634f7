/// The plain-text alternative of an HTML email, for clients that show text and for spam filters, which mark down
/// HTML-only mail.
///
/// Not a browser: it does not apply CSS (a `display:none` preheader stays in), and it reads the tag soup that email
/// builders produce well enough: comments, doctype and unknown tags vanish, `<head>`, `<style>`, `<script>` and
/// `<title>` vanish with their content, block elements end lines, links become "text (url)", images give their alt
/// text, entities are decoded and white space collapses as a browser would collapse it.
enum HTMLText {
    static func plainText(fromHTML html: String) -> String {
        String(decoding: plainTextBytes(fromHTML: html), as: UTF8.self)
    }

    /// The text as UTF-8 bytes, for the renderer, which encodes them without needing them validated as a string.
    static func plainTextBytes(fromHTML html: String) -> [UInt8] {
        plainTextAndLinks(fromHTML: html, recordingLinks: false).text
    }

    /// The text, and when asked, every link that `linkSuffix` decided on (for `DerivedText`, which must know which
    /// decisions its variables could change).
    static func plainTextAndLinks(fromHTML html: String, recordingLinks: Bool) -> (text: [UInt8], links: [Link]) {
        var html = html
        return html.withUTF8 { bytes in
            var reader = HTMLReader(bytes: bytes, recordsLinks: recordingLinks)
            reader.read()
            return (reader.text.bytes, reader.recordedLinks)
        }
    }

    /// A closed link: its target and text (both trimmed), and what the text version wrote after the text.
    struct Link: Equatable {
        var href: String
        var label: String
        var suffix: LinkSuffix
    }

    enum LinkSuffix: Equatable {
        /// Nothing: no target, an anchor, script, or a target that is the text itself.
        case none
        /// " url": the link had no text.
        case bare
        /// " (url)".
        case parenthesised
    }

    /// What follows a link's text: its target, unless it adds nothing (same as the text, an anchor, script).
    static func linkSuffix(href: String, label: String) -> LinkSuffix {
        // An ASCII target (the usual one) is read as bytes: its first character and lowercased prefix are its
        // bytes', and it can equal "mailto:" or "tel:" and a label only if it starts with them (canonical
        // equivalence leaves ASCII as it is, and nothing reorders across the colon).
        var target = href
        let ascii: (skip: Bool, mailto: Bool, tel: Bool)? = target.withUTF8 { bytes in
            guard !bytes.contains(where: { $0 >= 0x80 }) else { return nil }
            let skip =
                bytes.isEmpty || bytes[0] == UInt8(ascii: "#")
                || UTF8Text.hasASCIIPrefixIgnoringCase(bytes, "javascript:")
            return (skip, bytes.starts(with: "mailto:".utf8), bytes.starts(with: "tel:".utf8))
        }
        // Any other target gets the same answers from its characters; either scheme may then make it the label's.
        let skip = ascii?.skip ?? (href.isEmpty || href.hasPrefix("#") || href.lowercased().hasPrefix("javascript:"))
        if skip { return .none }
        if label.isEmpty { return .bare }
        let mayBeMailto = ascii?.mailto ?? true, mayBeTel = ascii?.tel ?? true
        let isLabel =
            label == href || (mayBeMailto && "mailto:" + label == href) || (mayBeTel && "tel:" + label == href)
        return isLabel ? .none : .parenthesised
    }
}

/// Reads the HTML's UTF-8 bytes; see `UTF8Text` for why byte offsets can stand in for character offsets.
private struct HTMLReader: ~Copyable {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    var text: TextCollector
    /// Open links: where the link's text starts in the output, and its target.
    var links: [(start: Int, href: String)] = []
    let recordsLinks: Bool
    var recordedLinks: [HTMLText.Link] = []

    init(bytes: UnsafeBufferPointer<UInt8>, recordsLinks: Bool) {
        self.bytes = bytes
        self.recordsLinks = recordsLinks
        text = TextCollector(capacity: bytes.count)
    }

    mutating func read() {
        while position < bytes.count {
            if bytes[position] == UInt8(ascii: "<") && readMarkup() { continue }
            let start = position
            position = UTF8Text.firstIndex(of: UInt8(ascii: "<"), in: bytes, from: position + 1) ?? bytes.count
            text.append(bytes, start..<position, decodingEntities: true)
        }
    }

    /// Reads a tag, comment or declaration at `position`; false when the "<" is just text.
    private mutating func readMarkup() -> Bool {
        let opensComment =
            position + 3 < bytes.count && bytes[position + 1] == UInt8(ascii: "!")
            && bytes[position + 2] == UInt8(ascii: "-") && bytes[position + 3] == UInt8(ascii: "-")
        if opensComment {
            position = find(Self.commentClose).map { $0 + 3 } ?? bytes.count
            return true
        }
        guard position + 1 < bytes.count else { return false }
        let next = bytes[position + 1]
        if next == UInt8(ascii: "!") || next == UInt8(ascii: "?") {
            position = find(Self.tagClose).map { $0 + 1 } ?? bytes.count
            return true
        }
        guard next == UInt8(ascii: "/") || isAlphabetic(at: position + 1) else { return false }
        let tag = HTMLTag(bytes, at: position)
        position = tag.end
        handle(tag)
        return true
    }

    private func isAlphabetic(at index: Int) -> Bool {
        let byte = bytes[index]
        if byte < 0x80 { return (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") }
        return UTF8Text.scalar(in: bytes, at: index).properties.isAlphabetic
    }

    private mutating func handle(_ tag: HTMLTag) {
        switch tag.element {
        case .hidden(let element):
            if !tag.isClosing && !tag.isSelfClosing { skipHidden(element) }
        case .lineBreak, .line:
            text.lineBreak(1)
        case .paragraph:
            text.lineBreak(2)
        case .listItem:
            text.lineBreak(1)
            if !tag.isClosing { text.append("- ") }
        case .cell:
            if tag.isClosing { text.append(" ") }
        case .image:
            if let alt = tag.value { text.append(alt) }
        case .link:
            if !tag.isClosing && !tag.isSelfClosing {
                links.append((text.count, tag.value ?? ""))
            } else if tag.isClosing, let link = links.popLast() {
                closeLink(link)
            }
        case .other:
            break
        }
    }

    /// Writes the link's target after its text, unless it adds nothing (same as the text, an anchor, script).
    private mutating func closeLink(_ link: (start: Int, href: String)) {
        let href = Blank.trimmed(link.href, .whitespaces)
        let label = Blank.trimmed(text.string(from: link.start), .whitespacesAndNewlines)
        let suffix = HTMLText.linkSuffix(href: href, label: label)
        if recordsLinks { recordedLinks.append(HTMLText.Link(href: href, label: label, suffix: suffix)) }
        switch suffix {
        case .none: break
        case .bare: text.append(" " + href)
        case .parenthesised: text.append(" (" + href + ")")
        }
    }

    /// Skips to the end of a hidden element. A `<head>` without its end tag ends where `<body>` starts.
    private mutating func skipHidden(_ element: HiddenElement) {
        var end = find(Array("</\(element.name)".utf8))
        if element == .head, let body = find(Self.bodyOpen), body < (end ?? bytes.count) { end = body }
        guard let end else {
            if element != .head { position = bytes.count }
            return
        }
        position = end
        if bytes[end + 1] == UInt8(ascii: "/") { position = find(Self.tagClose).map { $0 + 1 } ?? bytes.count }
    }

    private static let commentClose = Array("-->".utf8)
    private static let tagClose = Array(">".utf8)
    private static let bodyOpen = Array("<body".utf8)

    /// The first index at or after `position` where `needle` (lowercase ASCII, starting with a non-letter) starts,
    /// ignoring ASCII case.
    private func find(_ needle: [UInt8]) -> Int? {
        var index = position
        while index + needle.count <= bytes.count {
            guard let first = UTF8Text.firstIndex(of: needle[0], in: bytes, from: index),
                first + needle.count <= bytes.count
            else { return nil }
            if (1..<needle.count).allSatisfy({ HTMLElement.lowercased(bytes[first + $0]) == needle[$0] }) {
                return first
            }
            index = first + 1
        }
        return nil
    }
}
