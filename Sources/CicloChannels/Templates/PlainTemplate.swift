import Mustache

/// A template part made only of text and variable tags (`{{x}}`, `{{{x}}}`, `{{&x}}`), the shape nearly every
/// campaign template has, rendered by splicing values between the text rather than through the Mustache engine,
/// which looks each name up through `Any` and Mirror-style protocols and cost about 150 µs for a 2 KB email body.
///
/// Only built when it provably renders what the engine renders (see `init?`); any other part (sections, comments,
/// partials, odd spacing the engine may treat differently) stays with the engine.
struct PlainTemplate: Sendable {
    enum Segment: Sendable {
        case text(String)
        /// The value of `variables[index]`, HTML-escaped when `escaped`.
        case variable(index: Int, escaped: Bool)
    }

    let segments: [Segment]
    /// The text segments' UTF-8, in order, for `render`, which copies bytes rather than appending strings.
    private let texts: [[UInt8]]
    /// The bytes of text between the tags, to size the output.
    private let textLength: Int
    /// The variables written escaped somewhere, each once.
    private let escapedVariables: [Int]

    /// A template with these segments (see `DerivedText`).
    init(segments: [Segment]) {
        self.segments = segments
        texts = segments.map { segment in
            if case .text(let text) = segment { return Array(text.utf8) }
            return []
        }
        textLength = texts.reduce(0) { $0 + $1.count }
        var escapedVariables: Set<Int> = []
        for case .variable(let index, true) in segments { escapedVariables.insert(index) }
        self.escapedVariables = escapedVariables.sorted()
    }

    /// The segments of `source`, or nil when it has anything but text and variable tags naming `names`. `compiled`
    /// is the engine's template for the same part: both render a probe in which every variable has a distinct
    /// value that escaping changes, and the plain form is kept only if the outputs are identical, so the text
    /// between tags, each tag's variable and each tag's escaping are all the engine's.
    init?(source: String, escapesValues: Bool, names: [String], compiled: MustacheTemplate) {
        var segments: [Segment] = []
        let bytes = Array(source.utf8)
        var textStart = 0
        var index = 0
        while index + 1 < bytes.count {
            guard bytes[index] == UInt8(ascii: "{") && bytes[index + 1] == UInt8(ascii: "{") else {
                index += 1
                continue
            }
            let triple = index + 2 < bytes.count && bytes[index + 2] == UInt8(ascii: "{")
            let contentStart = index + (triple ? 3 : 2)
            let close = triple ? Self.closeTriple : Self.close
            guard let contentEnd = Self.find(close, in: bytes, from: contentStart) else { return nil }
            var content = Self.trimmed(bytes[contentStart..<contentEnd])
            var escaped = escapesValues && !triple
            if !triple && content.first == UInt8(ascii: "&") {
                content = Self.trimmed(content.dropFirst())
                escaped = false
            }
            guard let variable = names.firstIndex(where: { $0.utf8.elementsEqual(content) }) else { return nil }
            if textStart < index { segments.append(.text(String(decoding: bytes[textStart..<index], as: UTF8.self))) }
            segments.append(.variable(index: variable, escaped: escaped))
            index = contentEnd + close.count
            textStart = index
        }
        if textStart < bytes.count { segments.append(.text(String(decoding: bytes[textStart...], as: UTF8.self))) }
        self.init(segments: segments)
        guard !source.unicodeScalars.contains(where: { $0 == Self.probeMark }) else { return nil }
        let probe = names.indices.map { "\(Self.probeMark)\($0)<&>\(Self.probeMark)" }
        let context = MessageTemplate.nest(Dictionary(uniqueKeysWithValues: zip(names, probe)))
        guard compiled.render(context).utf8.elementsEqual(render(probe).utf8) else { return nil }
    }

    /// Renders with `values`, one per declared variable, in declaration order; an empty value renders as nothing,
    /// as an absent one does in Mustache. Each value is escaped once however often it appears. The pieces are
    /// copied as bytes into the string's own storage: appending a string per piece cost about 340 instructions
    /// each, most of the time spent rendering an email body.
    func render(_ values: [String]) -> String {
        // A part that is one piece is that piece, shared rather than copied (a link's text or target, checked for
        // every send by `DerivedText.applies`, often is).
        if segments.count == 1 {
            switch segments[0] {
            case .text(let text): return text
            case .variable(let index, false): return values[index]
            case .variable: break
            }
        }
        let escaped = escapedValues(values)
        var length = textLength
        for case .variable(let index, let isEscaped) in segments {
            length += (isEscaped ? escaped[index] : values[index]).utf8.count
        }
        return String(unsafeUninitializedCapacity: length) { output in
            var count = 0
            func copy(_ bytes: UnsafeBufferPointer<UInt8>) {
                guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
                (output.baseAddress! + count).initialize(from: base, count: bytes.count)
                count += bytes.count
            }
            for (position, segment) in segments.enumerated() {
                switch segment {
                case .text: texts[position].withUnsafeBufferPointer { copy($0) }
                case .variable(let index, let isEscaped):
                    var value = isEscaped ? escaped[index] : values[index]
                    value.withUTF8 { copy($0) }
                }
            }
            return count
        }
    }

    /// `values` with those this template writes escaped replaced by their escaped forms.
    func escapedValues(_ values: [String]) -> [String] {
        var escaped = values
        for index in escapedVariables { escaped[index] = Self.htmlEscape(values[index]) }
        return escaped
    }

    /// A value made safe for HTML: the bytes of `<`, `>`, `&`, `"` and `'` become references, as swift-mustache's HTML
    /// content type writes them. The engine compares `Character`s, so a `<` that a prepend mark joins (`"\u{600}<"`)
    /// or a `>` carrying a combining mark is one character to it and goes through raw: a value could write markup
    /// into the email. Bytes are escaped here wherever they stand (the mark then sits on the reference).
    static func htmlEscape(_ text: String) -> String {
        let needsEscaping = UTF8Text.contains(text) { $0 == 0x3C || $0 == 0x3E || $0 == 0x26 || $0 == 0x22 || $0 == 0x27 }
        guard needsEscaping else {
            return text
        }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(text.utf8.count + 16)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "<"): escaped.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): escaped.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "&"): escaped.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "\""): escaped.append(contentsOf: "&quot;".utf8)
            case UInt8(ascii: "'"): escaped.append(contentsOf: "&#39;".utf8)
            default: escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }

    /// A private-use character no real template holds, to mark probe values.
    private static let probeMark: Unicode.Scalar = "\u{F8FF}"
    private static let close = Array("}}".utf8)
    private static let closeTriple = Array("}}}".utf8)

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }) else { return bytes[bytes.endIndex...] }
        let last = bytes.lastIndex(where: { !isSpace($0) })!
        return bytes[first...last]
    }
}
