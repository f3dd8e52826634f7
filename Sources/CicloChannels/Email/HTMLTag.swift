/// One start or end tag, read leniently: unquoted and single-quoted attribute values, missing `>` at the end.
///
/// It reads the HTML's UTF-8 bytes. Only the one attribute the element needs for the text version (an image's
/// `alt`, a link's `href`) is decoded; the others are only stepped over.
struct HTMLTag {
    var element = HTMLElement.other
    var isClosing = false
    var isSelfClosing = false
    /// The value of the element's wanted attribute, entities decoded, or nil when the tag lacks it; the first of
    /// repeated names wins, as in browsers.
    var value: String?
    /// The index just after the tag.
    var end: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) {
        let count = bytes.count
        var index = start + 1
        if index < count && bytes[index] == UInt8(ascii: "/") {
            isClosing = true
            index += 1
        }
        let nameStart = index
        while index < count && !Self.isSpace(bytes, index) && !Self.endsName(bytes[index]) {
            index += UTF8Text.scalarLength(lead: bytes[index])
        }
        element = HTMLElement(bytes, nameStart..<index)
        let wanted = element.wantedAttribute
        while index < count && bytes[index] != UInt8(ascii: ">") {
            if Self.isSpace(bytes, index) || bytes[index] == UInt8(ascii: "/") {
                isSelfClosing = bytes[index] == UInt8(ascii: "/")
                index += UTF8Text.scalarLength(lead: bytes[index])
                continue
            }
            isSelfClosing = false
            let attribute = index
            while index < count && !Self.isSpace(bytes, index) && !Self.endsAttributeName(bytes[index]) {
                index += UTF8Text.scalarLength(lead: bytes[index])
            }
            let attributeEnd = index
            index = Self.skipSpaces(bytes, from: index)
            var valueRange = index..<index
            if index < count && bytes[index] == UInt8(ascii: "=") {
                index = Self.skipSpaces(bytes, from: index + 1)
                if index < count && (bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'")) {
                    let quote = bytes[index]
                    var valueEnd = index + 1
                    while valueEnd < count && bytes[valueEnd] != quote { valueEnd += 1 }
                    valueRange = (index + 1)..<valueEnd
                    index = min(valueEnd + 1, count)
                } else {
                    let valueStart = index
                    while index < count && !Self.isSpace(bytes, index) && bytes[index] != UInt8(ascii: ">") {
                        index += UTF8Text.scalarLength(lead: bytes[index])
                    }
                    valueRange = valueStart..<index
                }
            }
            if value == nil, let wanted, HTMLElement.isNamed(bytes, attribute..<attributeEnd, wanted) {
                value = HTMLEntities.decode(bytes, valueRange)
            }
        }
        end = min(index + 1, count)
    }

    @inline(__always)
    private static func endsName(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "/") || byte == UInt8(ascii: ">")
    }

    @inline(__always)
    private static func endsAttributeName(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "=") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: ">")
    }

    /// White space as HTML-to-text reads it: Unicode's White_Space, not only ASCII.
    @inline(__always)
    static func isSpace(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> Bool {
        let byte = bytes[index]
        if byte < 0x80 { return UTF8Text.isWhitespace(UInt32(byte)) }
        return UTF8Text.isWhitespace(UTF8Text.scalar(in: bytes, at: index).value)
    }

    private static func skipSpaces(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        while index < bytes.count && isSpace(bytes, index) { index += UTF8Text.scalarLength(lead: bytes[index]) }
        return index
    }
}

/// What the text version does with an element, by its name.
enum HTMLElement: Equatable {
    /// Dropped with everything inside.
    case hidden(HiddenElement)
    case lineBreak, paragraph, listItem, line, cell, image, link, other

    /// The attribute the text version reads: an image's alternative text, a link's target.
    var wantedAttribute: StaticString? {
        switch self {
        case .image: "alt"
        case .link: "href"
        default: nil
        }
    }

    /// Whether `bytes[range]` is `name` (lowercase ASCII), ignoring ASCII case.
    static func isNamed(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ name: StaticString) -> Bool {
        guard range.count == name.utf8CodeUnitCount else { return false }
        for offset in 0..<range.count where lowercased(bytes[range.lowerBound + offset]) != name.utf8Start[offset] {
            return false
        }
        return true
    }

    /// The element whose name is `bytes[range]`, matched ignoring ASCII case as HTML does (full Unicode case folding
    /// would be wrong here). A switch on the first letter, then a few comparisons: a table lookup per tag cost more
    /// than reading the tag.
    init(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        self = .other
        guard !range.isEmpty else { return }
        func named(_ name: StaticString) -> Bool { HTMLElement.isNamed(bytes, range, name) }
        switch HTMLElement.lowercased(bytes[range.lowerBound]) {
        case UInt8(ascii: "a"):
            if named("a") { self = .link }
            else if named("address") { self = .paragraph }
            else if named("article") || named("aside") { self = .line }
        case UInt8(ascii: "b"):
            if named("br") { self = .lineBreak }
            else if named("blockquote") { self = .paragraph }
            else if named("body") { self = .line }
        case UInt8(ascii: "c"):
            if named("center") || named("caption") { self = .line }
        case UInt8(ascii: "d"):
            if named("dl") { self = .paragraph }
            else if named("div") || named("dt") || named("dd") { self = .line }
        case UInt8(ascii: "f"):
            if named("figure") { self = .paragraph }
            else if named("footer") || named("form") || named("fieldset") || named("figcaption") { self = .line }
        case UInt8(ascii: "h"):
            if named("h1") || named("h2") || named("h3") || named("h4") || named("h5") || named("h6") || named("hr") {
                self = .paragraph
            } else if named("head") {
                self = .hidden(.head)
            } else if named("header") || named("html") {
                self = .line
            }
        case UInt8(ascii: "i"):
            if named("img") { self = .image }
        case UInt8(ascii: "l"):
            if named("li") { self = .listItem }
        case UInt8(ascii: "m"):
            if named("main") { self = .line }
        case UInt8(ascii: "n"):
            if named("nav") { self = .line }
            else if named("noscript") { self = .hidden(.noscript) }
        case UInt8(ascii: "o"):
            if named("ol") { self = .paragraph }
        case UInt8(ascii: "p"):
            if named("p") || named("pre") { self = .paragraph }
        case UInt8(ascii: "s"):
            if named("style") { self = .hidden(.style) }
            else if named("script") { self = .hidden(.script) }
            else if named("section") { self = .line }
        case UInt8(ascii: "t"):
            if named("table") { self = .paragraph }
            else if named("title") { self = .hidden(.title) }
            else if named("template") { self = .hidden(.template) }
            else if named("tr") || named("tbody") || named("thead") || named("tfoot") { self = .line }
            else if named("td") || named("th") { self = .cell }
        case UInt8(ascii: "u"):
            if named("ul") { self = .paragraph }
        default:
            break
        }
    }

    /// HTML names are ASCII-case-insensitive; full Unicode lowercasing would be wrong here.
    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }
}

/// The elements dropped with their content.
enum HiddenElement {
    case head, style, script, title, template, noscript

    var name: String {
        switch self {
        case .head: "head"
        case .style: "style"
        case .script: "script"
        case .title: "title"
        case .template: "template"
        case .noscript: "noscript"
        }
    }
}
