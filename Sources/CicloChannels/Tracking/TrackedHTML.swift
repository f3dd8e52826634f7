/// `EmailTracking.apply` worked out once on an HTML template rather than on every rendered body: the links it could
/// wrap and the place of the open pixel are found in the template's static text, and become slots that a send fills
/// with its signed links (see `SplicedBody`).
///
/// Only built when the values cannot change what tracking does, which holds when every variable is HTML-escaped
/// (no value then holds `<`, `>`, a quote or `&`) and:
/// - no `<a` tag holds a variable (a value with spaces or `=` could add or move an unquoted `href`), but for a
///   quoted `href` that is one variable and nothing else, whose value is checked per send: without a quote, `<` or
///   `>` (escaping leaves one that carries a combining mark), it stays the whole target;
/// - no variable follows a `<` closely enough to make an `<a ` tag with it;
/// - the last `</body>` is followed by an ASCII byte of static text, or ends the template (a value starting with a
///   combining mark would hide it from Foundation's search, which compares characters), and lies in no link.
/// Anything else keeps `EmailTracking.apply` on the rendered HTML.
struct TrackedHTML: Sendable {
    /// A link tracking may wrap: its target as written in the template, and as `wraps` reads it.
    struct Link: Sendable {
        var written: String
        var url: String
        var quoted: Bool
        /// The variable that is the whole target, if it is one.
        var variable: Int?
    }

    /// The HTML with a slot for each link's target, then one for the pixel (slot `links.count`).
    let body: SplicedBody
    let links: [Link]

    private static let marker: [UInt8] = [0xEE, 0x80, 0x80]  // U+E000, which no escaped value changes

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
                // Only a quoted target that is one value, and nothing else in the tag.
                guard let href, quoted == true, href.count == Self.marker.count,
                    let variable = variables[href.lowerBound],
                    isStatic[index..<href.lowerBound].allSatisfy({ $0 }),
                    isStatic[href.upperBound...end].allSatisfy({ $0 })
                else { return nil }
                links.append(Link(written: "", url: "", quoted: true, variable: variable))
                hrefs.append(href)
            } else if let href, let quoted {
                let written = String(decoding: probe[href], as: UTF8.self)
                let url = EmailTracking.decodeEntities(written)
                let lowered = url.lowercased()
                // The rest of `wraps` depends on the deployment's base URL: decided per send.
                if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
                    links.append(Link(written: written, url: url, quoted: quoted, variable: nil))
                    hrefs.append(href)
                }
            }
            index = end + 1
        }
        // The pixel: before the last `</body>`, else at the end.
        var pixel = count
        let closing = Array("</body>".utf8)
        if count >= closing.count {
            for start in stride(from: count - closing.count, through: 0, by: -1)
            where (0..<closing.count).allSatisfy({ probe[start + $0] | 0x20 == closing[$0] | 0x20 }) {
                // "<", "/" and ">" have no other byte that matches them under `| 0x20`, except "\x1C", "\x0F", "\x1E".
                guard probe[start] == closing[0], probe[start + 1] == closing[1], probe[start + 6] == closing[6] else {
                    continue
                }
                let after = start + closing.count
                guard isStatic[start..<after].allSatisfy({ $0 }),
                    after == count || (isStatic[after] && probe[after] < 0x80),
                    !hrefs.contains(where: { $0.overlaps(start..<after) })
                else { return nil }
                pixel = start
                break
            }
        }
        // The pieces: static text cut around each link's target and at the pixel.
        var cuts = hrefs.enumerated().map { (range: $0.element, slot: $0.offset) }
        cuts.append((pixel..<pixel, links.count))
        cuts.sort { $0.range.lowerBound < $1.range.lowerBound }
        var pieces: [SplicedBody.Piece] = []
        var nextCut = 0
        for (number, segment) in html.segments.enumerated() {
            let start = staticStarts[number]
            guard case .text(let text) = segment else {
                if nextCut < cuts.count && cuts[nextCut].range.lowerBound == start && !cuts[nextCut].range.isEmpty {
                    pieces.append(.slot(cuts[nextCut].slot))  // a link whose target is this value
                    nextCut += 1
                } else if case .variable(let variable, let escaped) = segment {
                    pieces.append(.variable(index: variable, escaped: escaped))
                }
                continue
            }
            let end = start + text.utf8.count
            var position = start
            while nextCut < cuts.count && cuts[nextCut].range.lowerBound < end {
                let cut = cuts[nextCut]
                pieces.append(.text(Array(probe[position..<cut.range.lowerBound])))
                pieces.append(.slot(cut.slot))
                position = cut.range.upperBound
                nextCut += 1
            }
            pieces.append(.text(Array(probe[position..<end])))
        }
        if nextCut < cuts.count { pieces.append(.slot(cuts[nextCut].slot)) }  // the pixel at the very end
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
            if let variable = link.variable {
                written = escaped[variable]
                let breaks = UTF8Text.contains(written) { $0 == 0x22 || $0 == 0x27 || $0 == 0x3C || $0 == 0x3E }
                if breaks { return nil }
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
