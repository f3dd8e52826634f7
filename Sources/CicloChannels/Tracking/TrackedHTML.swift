/// `EmailTracking.apply` worked out once on an HTML template rather than on every rendered body: the links it could
/// wrap and the place of the open pixel are found in the template's static text, and become slots that a send fills
/// with its signed links (see `SplicedBody`).
///
/// Only built when the values cannot change what tracking does, which holds when every variable is HTML-escaped
/// (no value then holds `<`, `>`, a quote or `&`) and:
/// - no `<a` tag holds a variable (a value with spaces or `=` could add or move an unquoted `href`), but inside a
///   quoted `href` (`https://shop.example/offers/{{offer_code}}`), whose values are checked per send: without a
///   quote, `<` or `>` (which escaping, on bytes since `PlainTemplate.htmlEscape` escapes bytes, no longer leaves;
///   the check stays as the slots' own guard), they stay inside the target;
/// - no variable follows a `<` closely enough to make an `<a ` tag with it, or follows the start of a `</body>`
///   (`</bo{{x}}>` with "dy" would close the body where the template shows no `</body>`);
/// - the last `</body>` is followed by an ASCII byte of static text, or ends the template, and lies in no link.
/// Anything else keeps `EmailTracking.apply` on the rendered HTML.
struct TrackedHTML: Sendable {
    /// A link tracking may wrap: its target as written in the template, and as `wraps` reads it.
    struct Link: Sendable {
        var written: String
        var url: String
        var quoted: Bool
        /// The target's static text and values, when it holds values.
        var parts: [Part]?
    }

    enum Part: Sendable {
        case text(String)
        case variable(Int)
    }

    /// The HTML with a slot for each link's target, then one for the pixel (slot `links.count`).
    let body: SplicedBody
    let links: [Link]

    private static let marker: [UInt8] = [0xEE, 0x80, 0x80]  // U+E000, which no escaped value changes
    private static let closing: [UInt8] = Array("</body>".utf8)

    /// A quoted target's static text and values, from the probe: nil unless every non-static byte is a whole marker.
    private static func parts(of href: Range<Int>, _ probe: [UInt8], isStatic: [Bool], variables: [Int: Int])
        -> [Part]?
    {
        var parts: [Part] = []
        var index = href.lowerBound
        var textStart = index
        while index < href.upperBound {
            if isStatic[index] {
                index += 1
                continue
            }
            guard let variable = variables[index], index + marker.count <= href.upperBound else { return nil }
            if textStart < index { parts.append(.text(String(decoding: probe[textStart..<index], as: UTF8.self))) }
            parts.append(.variable(variable))
            index += marker.count
            textStart = index
        }
        if textStart < index { parts.append(.text(String(decoding: probe[textStart..<index], as: UTF8.self))) }
        return parts
    }

    init?(html: PlainTemplate, variableCount: Int) {
        // The probe: the static text, with a marker for each value; `isStatic` says which bytes are the template's.
        var probe: [UInt8] = []
        var isStatic: [Bool] = []
        var staticStarts: [Int] = []
        var variables: [Int: Int] = [:]  // a marker's place in the probe: its variable
        for segment in html.segments {
            switch segment {
            case .text(let text):
                let bytes = Array(text.utf8)
                if bytes.count >= 3
                    && (0...(bytes.count - 3)).contains(where: { bytes[$0..<$0 + 3].elementsEqual(Self.marker) })
                {
                    return nil
                }
                staticStarts.append(probe.count)
                probe.append(contentsOf: bytes)
                isStatic.append(contentsOf: repeatElement(true, count: bytes.count))
            case .variable(let variable, let escaped):
                guard escaped else { return nil }
                staticStarts.append(probe.count)
                variables[probe.count] = variable
                probe.append(contentsOf: Self.marker)
                isStatic.append(contentsOf: repeatElement(false, count: Self.marker.count))
            }
        }
        let count = probe.count
        for index in probe.indices where probe[index] == UInt8(ascii: "<") && isStatic[index] {
            if (index + 1 < count && !isStatic[index + 1]) || (index + 2 < count && !isStatic[index + 2]) { return nil }
            // A value right after the start of a `</body>` in any case could finish it (`</bo{{x}}dy>`, x empty).
            var matched = 1
            while matched < 6, index + matched < count, isStatic[index + matched],
                HTMLElement.lowercased(probe[index + matched]) == Self.closing[matched]
            {
                matched += 1
            }
            if index + matched < count && !isStatic[index + matched] { return nil }
        }
        // The links, found as `EmailTracking.wrapLinks` finds them.
        var links: [Link] = []
        var hrefs: [Range<Int>] = []
        var index = 0
        while index < count {
            guard probe[index] == UInt8(ascii: "<"), index + 2 < count, probe[index + 1] | 0x20 == UInt8(ascii: "a"),
                EmailTracking.isSpace(probe[index + 2]), let end = EmailTracking.tagEnd(probe, from: index)
            else {
                index += 1
                continue
            }
            let href = EmailTracking.hrefValue(probe, in: index..<end)
            let quoted = href.map {
                $0.lowerBound > 0 && (probe[$0.lowerBound - 1] == 0x22 || probe[$0.lowerBound - 1] == 0x27)
            }
            if !isStatic[index...end].allSatisfy({ $0 }) {
                // Values only inside a quoted target, and nowhere else in the tag.
                guard let href, quoted == true,
                    isStatic[index..<href.lowerBound].allSatisfy({ $0 }),
                    isStatic[href.upperBound...end].allSatisfy({ $0 }),
                    let parts = Self.parts(of: href, probe, isStatic: isStatic, variables: variables)
                else { return nil }
                links.append(Link(written: "", url: "", quoted: true, parts: parts))
                hrefs.append(href)
            } else if let href, let quoted {
                let written = String(decoding: probe[href], as: UTF8.self)
                let url = EmailTracking.decodeEntities(written)
                let lowered = url.lowercased()
                // The rest of `wraps` depends on the deployment's base URL: decided per send.
                if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
                    links.append(Link(written: written, url: url, quoted: quoted, parts: nil))
                    hrefs.append(href)
                }
            }
            index = end + 1
        }
        // The pixel: before the last `</body>`, else at the end.
        var pixel = count
        let closing = Self.closing
        if count >= closing.count {
            for start in stride(from: count - closing.count, through: 0, by: -1)
            where (0..<closing.count).allSatisfy({ HTMLElement.lowercased(probe[start + $0]) == closing[$0] }) {
                let after = start + closing.count
                guard isStatic[start..<after].allSatisfy({ $0 }),
                    after == count || (isStatic[after] && probe[after] < 0x80),
                    !hrefs.contains(where: { $0.overlaps(start..<after) })
                else { return nil }
                pixel = start
                break
            }
        }
        // The pieces: the template's static text and values, with each link's target (static text, values or
        // both) replaced by its slot, and the pixel's slot at its place.
        var cuts = hrefs.enumerated().map { (range: $0.element, slot: $0.offset) }
        cuts.append((pixel..<pixel, links.count))
        cuts.sort { $0.range.lowerBound < $1.range.lowerBound }
        var pieces: [SplicedBody.Piece] = []
        /// The template's pieces within `range` of the probe; a target's edges are static, so no marker is cut.
        func emit(_ range: Range<Int>) {
            for (number, segment) in html.segments.enumerated() {
                let start = staticStarts[number]
                switch segment {
                case .text(let text):
                    let lower = max(start, range.lowerBound), upper = min(start + text.utf8.count, range.upperBound)
                    if lower < upper { pieces.append(.text(Array(probe[lower..<upper]))) }
                case .variable(let variable, let escaped):
                    if range.contains(start) { pieces.append(.variable(index: variable, escaped: escaped)) }
                }
            }
        }
        var position = 0
        for cut in cuts {
            emit(position..<cut.range.lowerBound)
            pieces.append(.slot(cut.slot))
            position = cut.range.upperBound
        }
        emit(position..<count)
        guard let body = SplicedBody(pieces, variableCount: variableCount) else { return nil }
        self.body = body
        self.links = links
    }

    /// What fills the slots for one send (`escaped` holds the HTML-escaped values): each link's target, wrapped or
    /// as written, then the pixel; nil when a value that is a link's target could end the attribute or the tag.
    func slots(
        _ tracking: EmailTracking, key: String, customer: Int64, openToken: String?, escaped: [String]
    ) -> [String]? {
        var slots: [String] = []
        slots.reserveCapacity(links.count + 1)
        for link in links {
            var written = link.written
            var url = link.url
            if let parts = link.parts {
                written = ""
                for part in parts {
                    switch part {
                    case .text(let text): written += text
                    case .variable(let variable):
                        let value = escaped[variable]
                        if UTF8Text.contains(value, where: { $0 == 0x22 || $0 == 0x27 || $0 == 0x3C || $0 == 0x3E }) {
                            return nil
                        }
                        written += value
                    }
                }
                url = EmailTracking.decodeEntities(written)
            }
            guard tracking.wraps(url) else {
                slots.append(written)
                continue
            }
            let wrapped = tracking.clickURL(url, key: key, customer: customer)
            slots.append(link.quoted ? wrapped : "\"" + wrapped + "\"")
        }
        slots.append(tracking.pixel(key: key, customer: customer, token: openToken))
        return slots
    }
}
