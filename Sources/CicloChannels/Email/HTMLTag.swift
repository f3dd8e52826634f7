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
        while index < count && !Self.isSpace(bytes, index) && bytes[index] != UInt8(ascii: "/") && bytes[index] != UInt8(ascii: ">") {
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
            if value == nil, let wanted, HTMLElement.key(bytes, attribute..<attributeEnd) == wanted {
                value = HTMLEntities.decode(bytes, valueRange)
            }
        }
        end = min(index + 1, count)
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

    /// The attribute the text version reads, packed as by `key`: an image's alternative text, a link's target.
    var wantedAttribute: UInt128? {
        switch self {
        case .image: Self.alt
        case .link: Self.href
        default: nil
        }
    }

    private static let alt = key("alt")
    private static let href = key("href")

    /// The element whose name is `bytes[range]`, matched ignoring ASCII case as HTML does (full Unicode case folding
    /// would be wrong here).
    init(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        self = .other
        guard !range.isEmpty, let key = Self.key(bytes, range) else { return }
        // Only the few names that share the first letter are compared.
        let letter = Int(bytes[range.lowerBound] | 0x20) - Int(UInt8(ascii: "a"))
        guard (0..<26).contains(letter) else { return }
        for entry in Self.table[Self.firstWithLetter[letter]..<Self.firstWithLetter[letter + 1]] where entry.key == key {
            self = entry.element
            return
        }
    }

    /// A name of up to 15 bytes packed into an integer with its length, ASCII letters lowercased, so that names
    /// compare as numbers; nil for a longer name, which no element or attribute the text version reads has.
    @inline(__always)
    static func key(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt128? {
        guard range.count <= 15 else { return nil }
        var key = UInt128(range.count) << 120
        var shift: UInt128 = 0
        for index in range {
            let byte = bytes[index]
            let lowered = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
            key |= UInt128(lowered) << shift
            shift += 8
        }
        return key
    }

    static func key(_ name: String) -> UInt128 {
        var name = name
        return name.withUTF8 { key($0, 0..<$0.count)! }
    }

    private static let table: [(key: UInt128, element: HTMLElement)] = {
        var table: [(key: UInt128, element: HTMLElement)] = []
        func add(_ names: [String], _ element: HTMLElement) {
            for name in names { table.append((key(name), element)) }
        }
        for hidden in HiddenElement.allCases { add([hidden.name], .hidden(hidden)) }
        add(["br"], .lineBreak)
        add(["p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "pre", "dl", "hr", "address",
             "figure"], .paragraph)
        add(["li"], .listItem)
        add(["div", "tr", "section", "article", "header", "footer", "nav", "aside", "main", "center", "dt", "dd", "form",
             "fieldset", "figcaption", "tbody", "thead", "tfoot", "body", "html", "caption"], .line)
        add(["td", "th"], .cell)
        add(["img"], .image)
        add(["a"], .link)
        return table.sorted { $0.key & 0xFF < $1.key & 0xFF }
    }()

    /// Where the names starting with each letter begin in `table`, with one more entry for the end.
    private static let firstWithLetter: [Int] = (0...26).map { letter in
        table.firstIndex { Int($0.key & 0xFF) >= Int(UInt8(ascii: "a")) + letter } ?? table.count
    }
}

/// The elements dropped with their content.
enum HiddenElement: CaseIterable {
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
