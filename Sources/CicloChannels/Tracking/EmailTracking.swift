import Foundation

/// Open and click tracking for an email's HTML, signed for the reporter: every http(s) link becomes
/// `<base>/c/<token>`, whose token carries the send and the original URL (so the reporter redirects only there),
/// and a 1x1 pixel `<base>/o/<token>` goes before `</body>`. Links to the reporter itself (the unsubscribe link)
/// and other schemes (mailto:, tel:, anchors) are left alone.
/// Pure: it lives with the renderers so that the render benchmark applies it exactly as the worker does.
public struct EmailTracking: Sendable {
    public let baseURL: String
    /// The token secret, keyed once for every link and pixel this value signs.
    let key: KeyedHMAC

    public init(baseURL: String, secret: String) {
        self.init(baseURL: baseURL, key: KeyedHMAC(secret: secret))
    }

    public init(baseURL: String, key: KeyedHMAC) {
        self.baseURL = baseURL
        self.key = key
    }

    /// `openToken` is the send's pixel token where its unsubscribe links were signed (`UnsubscribeLinks`); without
    /// it the pixel is signed here.
    public func apply(html: String, key: String, customer: Int64, openToken: String? = nil) -> String {
        guard !html.isEmpty else { return html }
        let linked = wrapLinks(html) { url in clickURL(url, key: key, customer: customer) }
        let pixel = pixel(key: key, customer: customer, token: openToken)
        guard let body = Self.lastBodyClose(linked) else { return linked + pixel }
        return linked[..<body] + pixel + linked[body...]
    }

    /// Where the last `</body>` in any case starts, as Foundation's `range(of:options: [.caseInsensitive,
    /// .backwards])` finds it (a `</body>` whose `>` carries a combining mark is no match there), searched on the
    /// bytes: Foundation turned the whole text into UTF-16 first, which cost more than tracking the rest of an email.
    static func lastBodyClose(_ html: String) -> String.Index? {
        var before: Int? = nil
        while let offset = UTF8Text.lastOffsetIgnoringASCIICase(of: "</body>", in: html, before: before) {
            let end = html.utf8.index(html.utf8.startIndex, offsetBy: offset + 7)
            if end.samePosition(in: html) != nil { return html.utf8.index(html.utf8.startIndex, offsetBy: offset) }
            before = offset
        }
        return nil
    }

    /// Whether a link's (entity-decoded) target is wrapped: http(s) and not the reporter's own.
    func wraps(_ url: String) -> Bool {
        let onBytes = UTF8Text.ifASCII(url, baseURL) { url, base in
            let isHTTP = UTF8Text.hasASCIIPrefixIgnoringCase(url, "http://")
                || UTF8Text.hasASCIIPrefixIgnoringCase(url, "https://")
            let isOwn =
                url.count > base.count && (base.isEmpty || memcmp(url.baseAddress!, base.baseAddress!, base.count) == 0)
                && url[base.count] == UInt8(ascii: "/")
            return isHTTP && !isOwn
        }
        if let onBytes { return onBytes }
        let lowered = url.lowercased()
        return (lowered.hasPrefix("http://") || lowered.hasPrefix("https://")) && !url.hasPrefix(baseURL + "/")
    }

    /// The click-tracking link that stands for `url` in the email of send `key`.
    func clickURL(_ url: String, key: String, customer: Int64) -> String {
        let token = SignedToken.sign(
            .init(key: key, customer: customer, channel: "email", purpose: "c", url: url), key: self.key)
        return link("", "/c/", token, "")
    }

    /// The open pixel of send `key`, with its token if it was signed already.
    func pixel(key: String, customer: Int64, token: String? = nil) -> String {
        let token = token ?? SignedToken.signPair(key: key, customer: customer, channel: "email", key: self.key).open
        return link(
            "<img src=\"", "/o/", token,
            "\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0;width:1px;height:1px\">")
    }

    /// `prefix`, the base URL, `path`, `token` and `suffix` in one string sized once: interpolating and
    /// concatenating grew it piece by piece, at about a tenth of what signing the token cost.
    private func link(_ prefix: StaticString, _ path: StaticString, _ token: String, _ suffix: StaticString) -> String {
        var base = baseURL
        var token = token
        let length =
            prefix.utf8CodeUnitCount + base.utf8.count + path.utf8CodeUnitCount + token.utf8.count
            + suffix.utf8CodeUnitCount
        return String(unsafeUninitializedCapacity: length) { out in
            var count = 0
            func copy(_ bytes: UnsafeBufferPointer<UInt8>) {
                guard let source = bytes.baseAddress else { return }
                (out.baseAddress! + count).initialize(from: source, count: bytes.count)
                count += bytes.count
            }
            prefix.withUTF8Buffer(copy)
            base.withUTF8(copy)
            path.withUTF8Buffer(copy)
            token.withUTF8(copy)
            suffix.withUTF8Buffer(copy)
            return count
        }
    }

    /// Replaces the href of each `<a>` tag whose (entity-decoded) value is an http(s) URL outside `baseURL`.
    func wrapLinks(_ html: String, _ wrap: (String) -> String) -> String {
        let bytes = Array(html.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 512)
        var i = 0
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "<"), i + 2 < bytes.count, bytes[i + 1] | 0x20 == UInt8(ascii: "a"),
                  Self.isSpace(bytes[i + 2]), let end = Self.tagEnd(bytes, from: i)
            else {
                out.append(bytes[i])
                i += 1
                continue
            }
            if let href = Self.hrefValue(bytes, in: i..<end) {
                let url = Self.decodeEntities(String(decoding: bytes[href], as: UTF8.self))
                if wraps(url) {
                    let quoted = href.lowerBound > 0 && (bytes[href.lowerBound - 1] == 0x22 || bytes[href.lowerBound - 1] == 0x27)
                    out.append(contentsOf: bytes[i..<href.lowerBound])
                    if !quoted { out.append(0x22) }
                    out.append(contentsOf: wrap(url).utf8)  // base URL and base64url token: nothing to escape
                    if !quoted { out.append(0x22) }
                    out.append(contentsOf: bytes[href.upperBound...end])
                    i = end + 1
                    continue
                }
            }
            out.append(contentsOf: bytes[i...end])
            i = end + 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C }

    /// The index of the `>` closing the tag at `start`, skipping quoted attribute values.
    static func tagEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var quote: UInt8? = nil
        for j in start..<bytes.count {
            let byte = bytes[j]
            if let open = quote { if byte == open { quote = nil } }
            else if byte == 0x22 || byte == 0x27 { quote = byte }
            else if byte == UInt8(ascii: ">") { return j }
        }
        return nil
    }

    /// The range of the href attribute's value (inside its quotes, if any) within a tag.
    static func hrefValue(_ bytes: [UInt8], in tag: Range<Int>) -> Range<Int>? {
        var j = tag.lowerBound + 2
        while j < tag.upperBound {
            while j < tag.upperBound, isSpace(bytes[j]) { j += 1 }
            let nameStart = j
            while j < tag.upperBound, !isSpace(bytes[j]), bytes[j] != UInt8(ascii: "="), bytes[j] != UInt8(ascii: "/") { j += 1 }
            let name = String(decoding: bytes[nameStart..<j], as: UTF8.self).lowercased()
            while j < tag.upperBound, isSpace(bytes[j]) { j += 1 }
            guard j < tag.upperBound, bytes[j] == UInt8(ascii: "=") else {
                if j == nameStart { j += 1 }
                continue
            }
            j += 1
            while j < tag.upperBound, isSpace(bytes[j]) { j += 1 }
            let value: Range<Int>
            if j < tag.upperBound, bytes[j] == 0x22 || bytes[j] == 0x27 {
                let quote = bytes[j]
                var k = j + 1
                while k < tag.upperBound, bytes[k] != quote { k += 1 }
                value = (j + 1)..<k
                j = k + 1
            } else {
                var k = j
                while k < tag.upperBound, !isSpace(bytes[k]) { k += 1 }
                value = j..<k
                j = k
            }
            if name == "href" { return value }
        }
        return nil
    }

    static let namedEntities: [Substring: String] = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'"]

    /// The character references an attribute value may hold (`&amp;` above all), decoded.
    static func decodeEntities(_ text: String) -> String {
        // Without an "&" byte there is nothing to decode, whatever Foundation's character search (which cost more
        // than the rest of a tracked link) would say.
        guard UTF8Text.contains(text, UInt8(ascii: "&")), text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            rest = rest[amp...]
            guard let semi = rest.prefix(12).firstIndex(of: ";") else {
                out += "&"
                rest = rest.dropFirst()
                continue
            }
            let name = rest[rest.index(after: rest.startIndex)..<semi]
            var scalar: Unicode.Scalar?
            if name.hasPrefix("#x") || name.hasPrefix("#X") { scalar = UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init) }
            else if name.hasPrefix("#") { scalar = UInt32(name.dropFirst()).flatMap(Unicode.Scalar.init) }
            if let value = Self.namedEntities[name] { out += value }
            else if let scalar { out.unicodeScalars.append(scalar) }
            else {
                out += "&"
                rest = rest.dropFirst()
                continue
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }
}
