/// An email's plain-text part derived once from its HTML template rather than from every rendered HTML body: turning
/// 2 KB of HTML into text was a quarter of the cost of rendering an email.
///
/// It is built by running the HTML-to-text conversion over the HTML template with each variable tag replaced by a
/// marker, then reading the markers' places in the text. Splicing a value where its marker stands gives exactly the
/// text of the rendered HTML only when the value behaves as the marker did, so both the template and each send's
/// values are checked, and anything else is converted per send as before:
/// - every marker must come out once and whole (a marker holds a space, so one split by an unquoted attribute, or
///   lost in a tag name, a comment or a hidden element, fails this);
/// - no tag follows a "<" or "</", and no "&" before it lacks its ";" (a value could complete a tag or a reference);
/// - a value must be "plain" (`isPlain`): not empty, no `<>&"'`, no white space but single spaces between other
///   characters, and no character the conversion drops; escaping leaves such a value as it is, and the conversion
///   copies it as it copies the marker;
/// - a link whose target or text holds a value is decided again with the values (`HTMLText.linkSuffix`): the text
///   version writes a link's target only when it adds something, which depends on the values.
struct DerivedText: Sendable {
    /// The text template; it gives the text for values that `applies` accepts.
    let text: PlainTemplate
    /// The variables (declaration indices) the HTML part uses; each must be plain.
    private let used: [Int]
    private let links: [LinkCheck]

    /// A link whose target or text holds variables, and what the derivation decided for it.
    private struct LinkCheck: Sendable {
        var href: PlainTemplate
        var label: PlainTemplate
        var suffix: HTMLText.LinkSuffix
    }

    /// The derived text of `html` (a part made only of text and variable tags), or nil when it cannot be derived.
    init?(html: PlainTemplate) {
        var probe = ""
        var markers: [(marker: String, variable: Int)] = []
        var previousText = ""
        for segment in html.segments {
            switch segment {
            case .text(let text):
                if text.unicodeScalars.contains(where: { $0 == Self.open || $0 == Self.close }) { return nil }
                probe += text
                previousText = text
            case .variable(let index, _):
                guard Self.isSafeBefore(previousText) else { return nil }
                let marker = "\(Self.open)\(markers.count) \(markers.count)\(Self.close)"
                markers.append((marker, index))
                probe += marker
                previousText = ""
            }
        }
        let (bytes, links) = HTMLText.plainTextAndLinks(fromHTML: probe, recordingLinks: true)
        let derived = String(decoding: bytes, as: UTF8.self)
        guard let text = Self.template(derived, markers) else { return nil }
        var checks: [LinkCheck] = []
        let holdsMarker = { (text: String) in text.unicodeScalars.contains(Self.open) }
        for link in links where holdsMarker(link.href) || holdsMarker(link.label) {
            guard let href = Self.template(link.href, markers, once: false),
                let label = Self.template(link.label, markers, once: false)
            else { return nil }
            checks.append(LinkCheck(href: href, label: label, suffix: link.suffix))
        }
        self.text = text
        used = Array(Set(markers.map(\.variable))).sorted()
        self.links = checks
    }

    /// The text for `values` (one per declared variable), or nil when a value is not plain or changes how a link
    /// is written: the caller then converts the rendered HTML.
    func render(_ values: [String]) -> String? {
        applies(values) ? text.render(values) : nil
    }

    /// Whether `text` gives the text of the HTML rendered with `values`.
    func applies(_ values: [String]) -> Bool {
        for index in used where !Self.isPlain(values[index]) { return false }
        for link in links {
            let suffix = HTMLText.linkSuffix(href: link.href.render(values), label: link.label.render(values))
            if suffix != link.suffix { return false }
        }
        return true
    }

    /// Private-use characters around the markers, which the conversion keeps as visible text.
    private static let open: Unicode.Scalar = "\u{E000}"
    private static let close: Unicode.Scalar = "\u{E001}"

    /// `text` with each marker as its variable, or nil when a marker is missing, repeated (unless `once` is false)
    /// or cut. Read as bytes: the markers are private-use characters, whose UTF-8 (EE 80 80, EE 80 81) no other
    /// character contains.
    private static func template(
        _ text: String, _ markers: [(marker: String, variable: Int)], once: Bool = true
    ) -> PlainTemplate? {
        let bytes = Array(text.utf8)
        let openBytes = Array(String(open).utf8), closeBytes = Array(String(close).utf8)
        func find(_ needle: [UInt8], from start: Int) -> Int? {
            var index = start
            while index + needle.count <= bytes.count {
                if bytes[index..<index + needle.count].elementsEqual(needle) { return index }
                index += 1
            }
            return nil
        }
        var segments: [PlainTemplate.Segment] = []
        var seen = Set<Int>()
        var position = 0
        while let start = find(openBytes, from: position) {
            if start > position { segments.append(.text(String(decoding: bytes[position..<start], as: UTF8.self))) }
            guard let close = find(closeBytes, from: start) else { return nil }
            let end = close + closeBytes.count
            let marker = String(decoding: bytes[start..<end], as: UTF8.self)
            guard let number = markers.firstIndex(where: { $0.marker == marker }),
                seen.insert(number).inserted || !once
            else { return nil }
            segments.append(.variable(index: markers[number].variable, escaped: false))
            position = end
        }
        if find(closeBytes, from: position) != nil { return nil }
        if position < bytes.count { segments.append(.text(String(decoding: bytes[position...], as: UTF8.self))) }
        if once && seen.count != markers.count { return nil }
        return PlainTemplate(segments: segments)
    }

    /// Whether a value may follow `text` (the template text since the previous tag): not right after "<" or "</",
    /// where a value could start a tag, nor after an "&" without its ";", where it could complete a reference.
    private static func isSafeBefore(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        if bytes.last == UInt8(ascii: "<") || bytes.suffix(2) == [UInt8(ascii: "<"), UInt8(ascii: "/")] { return false }
        guard let ampersand = bytes.lastIndex(of: UInt8(ascii: "&")) else { return true }
        return bytes[ampersand...].contains(UInt8(ascii: ";"))
    }

    /// A value that escaping leaves as it is and that the conversion copies as it is: not empty; no `<`, `>`, `&`,
    /// `"` or `'`; no white space but single spaces between other characters; none of the characters it drops.
    static func isPlain(_ value: String) -> Bool {
        var value = value
        var previousSpace = true  // so that a leading space fails
        var isASCII = true
        // Read from the string's storage: iterating its UTF-8 view cost several times the test itself.
        let bytesPass = value.withUTF8 { bytes in
            for byte in bytes {
                switch byte {
                case UInt8(ascii: " "):
                    if previousSpace { return false }
                    previousSpace = true
                    continue
                case 0..<0x20, 0x7F, UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"), UInt8(ascii: "\""),
                    UInt8(ascii: "'"):
                    return false
                case 0x80...:
                    isASCII = false
                default:
                    break
                }
                previousSpace = false
            }
            return true
        }
        if !bytesPass { return false }
        if previousSpace { return false }  // empty, or a trailing space
        if isASCII { return true }
        return !value.unicodeScalars.contains { scalar in
            // ASCII was checked above; its single spaces are white space too, and fine.
            scalar.value >= 0x80
                && (UTF8Text.isWhitespace(scalar.value) || TextCollector.isInvisible(scalar.value) || scalar == open
                    || scalar == close || (0x80...0x9F).contains(scalar.value))
        }
    }
}
