import CicloTestSupport
import Testing

@testable import CicloChannels

/// Click and open tracking in email HTML: which links are wrapped, and that each wrapped link's token carries the
/// original URL exactly.
@Suite("Email click and open tracking")
struct EmailTrackingTests {
    let tracking = EmailTracking(baseURL: "https://t.example", secret: "tracking-test-secret-0123456789")

    func claims(_ link: String) throws -> SignedToken.Claims {
        #expect(link.hasPrefix("https://t.example/c/"))
        return try SignedToken.verify(String(link.dropFirst("https://t.example/c/".count)), purpose: "c",
                                      secret: "tracking-test-secret-0123456789")
    }

    @Test("http(s) links in <a> tags are wrapped, with entities decoded in the signed URL")
    func wraps() throws {
        let html = #"<p><A class="x" HREF="https://shop.example/a?x=1&amp;y=2">A</A> <a href='http://b.example/'>B</a>"#
            + #" <a href=https://c.example/c>C</a></p>"#
        let out = tracking.wrapLinks(html) { url in "https://t.example/c/" + SignedToken.sign(
            .init(key: "k", customer: 1, channel: "email", purpose: "c", url: url),
            secret: "tracking-test-secret-0123456789") }
        let links = out.matches(of: /(?i)href=["']?([^"' >]+)/).map { String($0.1) }
        #expect(try links.map { try claims($0).url } == [
            "https://shop.example/a?x=1&y=2", "http://b.example/", "https://c.example/c",
        ])
        #expect(out.contains(#"<A class="x" HREF=""#) && out.hasSuffix(">C</a></p>"))
    }

    @Test("mailto, anchors, the reporter's own links and non-anchor tags are left alone")
    func leavesAlone() {
        let html = ##"<a href="mailto:x@y.example">m</a><a href="#top">t</a><a href="https://t.example/u/abc">u</a>"##
            + #"<link href="https://cdn.example/x.css"><abbr title="a > b">q</abbr><a name="n">n</a>"#
        #expect(tracking.wrapLinks(html) { _ in "WRAPPED" } == html)
    }

    @Test("the open pixel goes before </body>, or at the end without one; an empty HTML part stays empty")
    func pixel() throws {
        let withBody = tracking.apply(html: "<html><BODY><p>x</p></BODY></html>", key: "k-9", customer: 9)
        let pixel = try #require(withBody.firstMatch(of: /<img src="https:\/\/t\.example\/o\/([^"]+)"/))
        let claims = try SignedToken.verify(String(pixel.1), purpose: "o", secret: "tracking-test-secret-0123456789")
        #expect(claims == .init(key: "k-9", customer: 9, channel: "email", purpose: "o"))
        #expect(withBody.hasSuffix("</BODY></html>"))
        #expect(tracking.apply(html: "<p>x</p>", key: "k", customer: 1).hasSuffix("\">"))
        #expect(tracking.apply(html: "", key: "k", customer: 1) == "")
    }

    @Test("the pixel goes before the last </body> in any case, after text outside ASCII, and nowhere else")
    func pixelPlace() throws {
        for (html, before, after) in [
            ("<p>ação ☀️</p></Body>", "<p>ação ☀️</p>", "</Body>"),
            ("<p>a</p></body><p>b</p></bOdY>tail", "<p>a</p></body><p>b</p>", "</bOdY>tail"),
            ("<p>a</p></body", "<p>a</p></body", ""),  // not a whole tag: the pixel goes at the end
            ("</body>", "", "</body>"),
            // A `>` carrying a combining mark ends no `</body>`, as Foundation's search had it.
            ("<p>a</p></body>\u{301}", "<p>a</p></body>\u{301}", ""),
            ("<p>a</p></body><p>b</p></body>\u{301}", "<p>a</p>", "</body><p>b</p></body>\u{301}"),
        ] {
            let tracked = tracking.apply(html: html, key: "k", customer: 1)
            let pixel = try #require(tracked.firstRange(of: /<img [^>]*>/), "\(tracked)")
            #expect(String(tracked[..<pixel.lowerBound]) == before, "\(html)")
            #expect(String(tracked[pixel.upperBound...]) == after, "\(html)")
        }
        #expect(UTF8Text.lastOffsetIgnoringASCIICase(of: "</body>", in: "é</BODY>x</body") == 2)
        #expect(UTF8Text.lastOffsetIgnoringASCIICase(of: "</body>", in: "</body></body>", before: 7) == 0)
        #expect(UTF8Text.lastOffsetIgnoringASCIICase(of: "</body>", in: "</body></body>", before: 0) == nil)
        #expect(UTF8Text.lastOffsetIgnoringASCIICase(of: "</body>", in: "</bodyy>") == nil)
        #expect(UTF8Text.lastOffsetIgnoringASCIICase(of: "</body>", in: "") == nil)
    }

    @Test("links whose target mixes static text and values take the compiled path, and send what apply writes")
    func mixedTargetsAreCompiled() throws {
        let variables = [TemplateVariable("offer_code"), TemplateVariable("customer.first_name", default: "")]
        func compiled(_ html: String) throws -> (MessageTemplate, TrackedHTML?) {
            let template = try MessageTemplate(
                name: "mixed", parts: ["subject": (.text, "Oferta"), "html": (.html, html)], variables: variables)
            return (template, template.emailParts?.trackedHTML)
        }
        let html = """
            <p>Olá {{customer.first_name}},</p>
            <p><a href="https://shop.demo.example/offers/{{offer_code}}?n={{customer.first_name}}&amp;x=1">Ver</a></p>
            </body>
            """
        let (template, tracked) = try compiled(html)
        let slots = try #require(tracked, "a target with values inside its quotes is compiled")
        for (code, name) in [("COMEBACK10", "Ana"), ("A&B", "Zoë"), ("", ""), ("x y", "<b>")] {
            guard case .success(let resolved) = template.resolve(["offer_code": code, "customer.first_name": name]),
                let parts = template.emailParts
            else {
                Issue.record("\(code), \(name) did not resolve")
                continue
            }
            let escaped = parts.htmlTemplate.escapedValues(resolved)
            let filled = try #require(slots.slots(tracking, key: "k", customer: 1, openToken: nil, escaped: escaped))
            let spliced = slots.body.text(SpliceValues(resolved, escaped: escaped, slots: filled))
            let applied = tracking.apply(html: parts.htmlTemplate.render(resolved), key: "k", customer: 1)
            #expect(String(decoding: spliced, as: UTF8.self) == applied, "\(code), \(name)")
        }
        // A value that starts a `</body>` of its own could finish one: such templates keep the slower path.
        #expect(try compiled("<p>x</p></bo{{offer_code}}dy>").1 == nil)
        #expect(try compiled("<p>x</p></BODY{{offer_code}}>").1 == nil)
        #expect(try compiled("<p>{{offer_code}}</p></body>").1 != nil)
    }
}

/// The link checks that answer on bytes for ASCII text (`EmailTracking.wraps`, and `HTMLText.linkSuffix` for an
/// ASCII target) against the string expressions they stand in for, over pieces that sit on every edge: case, CR LF,
/// prefixes of the base URL, the schemes a label is compared with, a label canonically equal to an ASCII target
/// (the Kelvin sign is "K"), and non-ASCII, which takes the string path.
@Suite struct LinkCheckBytesTests {
    static let pieces = [
        "", "http://", "HTTPS://", "https://t.example", "https://t.example/", "/", "mailto:", "tel:", "#",
        "javascript:", "JavaScript:", "K", "\u{212A}", "a", "x.example", "\r\n", "\r", "\n", "é", "e\u{301}",
        "/\u{301}", "#\u{301}", ":\u{301}",
    ]

    static func text(_ random: inout SplitMix64) -> String {
        (0..<Int(random.next() % 4)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
    }

    @Test func byteAnswersAreTheStringOnes() {
        var random = SplitMix64(seed: 21)
        for _ in 0..<10_000 {
            let url = Self.text(&random)
            let other = Self.text(&random)
            let lowered = url.lowercased()
            let shown = "\(url.debugDescription) \(other.debugDescription)"
            let wraps = (lowered.hasPrefix("http://") || lowered.hasPrefix("https://")) && !url.hasPrefix(other + "/")
            #expect(EmailTracking(baseURL: other, secret: "s").wraps(url) == wraps, "\(shown)")
            var suffix = HTMLText.LinkSuffix.none
            if !url.isEmpty && !url.hasPrefix("#") && !lowered.hasPrefix("javascript:") {
                let isLabel = other == url || "mailto:" + other == url || "tel:" + other == url
                suffix = other.isEmpty ? .bare : isLabel ? .none : .parenthesised
            }
            #expect(HTMLText.linkSuffix(href: url, label: other) == suffix, "\(shown)")
        }
    }

}
