import CicloTestSupport
import Testing

@testable import CicloChannels

/// The text part derived once from an HTML template must be exactly the text derived from each rendered HTML body:
/// checked against `HTMLText.plainText` on random templates and values, hostile ones included.
@Suite struct DerivedTextTests {
    static let variables = [TemplateVariable("a"), TemplateVariable("b"), TemplateVariable("c.d", default: "")]

    static func email(_ html: String) throws -> MessageTemplate {
        try MessageTemplate(name: "t", parts: ["subject": (.text, "s"), "html": (.html, html)], variables: variables)
    }

    /// Renders with and without the derived template, and compares with the text of the rendered HTML.
    static func expectSameText(_ template: MessageTemplate, _ values: [String: String]) throws {
        let parts = try template.render(values, derivingTextFromHTML: true).get()
        let html = try #require(parts["html"])
        #expect(parts["text"] == HTMLText.plainText(fromHTML: html), "values \(values), html \(html)")
    }

    @Test("the benchmark's kind of template is derived once, and plain values use it")
    func derivedForUsualTemplates() throws {
        let template = try Self.email(
            "<p>Olá {{a}}, aproveite <b>{{b}}</b> em todas as lojas!</p>\n<p><a href=\"{{c.d}}\">Sair</a></p>")
        #expect(template.derivesText)
        let values = ["a": "Maria José", "b": "VERÃO25 ☀️", "c.d": "https://ciclo.example/u/tok"]
        #expect(template.derivedText(values) != nil)
        try Self.expectSameText(template, values)
        // Values the derived form cannot stand for go the slow way, with the same result.
        for hostile in ["", " Ana", "Ana ", "Ana  Maria", "A&B", "<b>x</b>", "\u{00A0}", "zero\u{200B}width", "\"q\""] {
            #expect(template.derivedText(["a": hostile, "b": "x", "c.d": "https://x.example"]) == nil)
            try Self.expectSameText(template, ["a": hostile, "b": "x", "c.d": "https://x.example"])
        }
        // A link target that becomes the link's text, an anchor or script changes what is written: not derived.
        for href in ["Sair", "#top", "JavaScript:x()", "mailto:Sair", ""] {
            #expect(template.derivedText(["a": "A", "b": "B", "c.d": href]) == nil)
            try Self.expectSameText(template, ["a": "A", "b": "B", "c.d": href])
        }
    }

    @Test("templates whose variables sit where a value could change the markup are not derived", arguments: [
        "<p>a <{{a}}> b</p>", "<p></{{a}}></p>", "&{{a}};", "<img alt={{a}}>", "<b{{a}}>x</b>",
        "<!-- {{a}} -->x", "<style>{{a}}</style>x", "<p title=\"{{a}}\">x</p>", "x \u{E000}{{a}}",
    ])
    func notDerived(html: String) throws {
        let template = try Self.email(html)
        #expect(!template.derivesText)
        for value in ["r", "amp", "Ana Maria", "x y=z"] { try Self.expectSameText(template, ["a": value, "b": "b"]) }
    }

    @Test("isPlain at its edges")
    func plainValues() {
        for plain in ["a", "Ana Maria", "VERÃO25", "☀️", "50% off!", "https://x.example/u?a=1", "a;b", "é"] {
            #expect(DerivedText.isPlain(plain), "\(plain)")
        }
        for other in ["", " ", " a", "a ", "a  b", "a\tb", "a\nb", "<", ">", "&", "\"", "'", "a\u{00A0}b", "\u{FEFF}",
            "\u{00AD}", "a\u{3000}b", "\u{85}", "\u{7F}"]
        {
            #expect(!DerivedText.isPlain(other), "\(other.unicodeScalars.map { $0.value })")
        }
    }

    /// Random templates from fragments that stress the conversion (links, images, entities, hidden elements, tags
    /// around and inside variables) and random values, plain and hostile: the text is always the HTML's text.
    @Test(arguments: 0..<6)
    func randomTemplatesAndValues(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let fragments = [
            "<p>", "</p>", "<br>", "<b>", "</b>", " ", "  ", "\n", "Olá ", "perché ", "&amp; ", "&nbsp;", "&", ";",
            "<a href=\"{{a}}\">", "<a href=\"https://x.example/{{b}}\">", "<a href='{{c.d}}'>", "</a>", "<a>",
            "<img alt=\"{{a}}\" src=\"x\">", "<img alt={{b}}>", "<li>", "<td>", "</td>", "<style>p{}</style>",
            "<!-- c -->", "{{a}}", "{{b}}", "{{{a}}}", "{{c.d}}", "<{{a}}", "x{{b}}y", "&{{a}}", "#", "mailto:",
            "<p title=\"{{b}}\">", "&#{{b}};", "<title>{{a}}</title>", "Sair", "\u{200B}", "🎉",
        ]
        let values = [
            "Ana", "Ana Maria", "VERÃO25", "", " ", "a  b", "A&B", "<i>x</i>", "Sair", "#top", "javascript:x",
            "mailto:Sair", "https://x.example/u", "amp", "r", "\u{00A0}", "x\u{200B}y", "🎉 ok", "'", "\"", "38",
        ]
        var derived = 0
        for _ in 0..<150 {
            let html = (0..<Int(random.next() % 14 + 1)).map { _ in pick(fragments) }.joined()
            guard let template = try? Self.email(html) else { continue }
            for _ in 0..<8 {
                let chosen = ["a": pick(values), "b": pick(values), "c.d": pick(values)]
                if template.derivedText(chosen) != nil { derived += 1 }
                try Self.expectSameText(template, chosen)
            }
        }
        // The derived path must have been taken often enough for the comparison to mean something.
        #expect(derived >= 50, "only \(derived) of 1,200 renders used the derived text")
    }
}
