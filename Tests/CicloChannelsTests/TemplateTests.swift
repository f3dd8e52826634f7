import Testing

@testable import CicloChannels

@Suite("Message templates")
struct TemplateTests {
    let variables = [
        TemplateVariable("customer.first_name", default: "there"),
        TemplateVariable("offer_code"),
        TemplateVariable("unsubscribe_url"),
    ]

    func email(_ html: String = "<p>Olá {{customer.first_name}}, use <b>{{offer_code}}</b></p>") throws -> MessageTemplate {
        try MessageTemplate(
            name: "summer/A/pt",
            parts: ["subject": (.text, "{{customer.first_name}}, 20% & mais"), "html": (.html, html),
                    "text": (.text, "Olá {{customer.first_name}} <{{offer_code}}> {{unsubscribe_url}}")],
            variables: variables)
    }

    @Test("renders every part: HTML parts escape values, text parts do not; defaults fill missing values")
    func renders() throws {
        let template = try email()
        let values = ["customer.first_name": "Ana <Maria>", "offer_code": "VERAO&25", "unsubscribe_url": "https://u/1"]
        let parts = try template.render(values).get()
        #expect(parts["subject"] == "Ana <Maria>, 20% & mais")
        #expect(parts["html"] == "<p>Olá Ana &lt;Maria&gt;, use <b>VERAO&amp;25</b></p>")
        #expect(parts["text"] == "Olá Ana <Maria> <VERAO&25> https://u/1")
        let withDefault = try template.render(["offer_code": "X", "unsubscribe_url": "u"]).get()
        #expect(withDefault["subject"] == "there, 20% & mais")
    }

    @Test("a value cannot write markup into HTML, even where a mark joins its < or > to a neighbour")
    func markupInValuesIsEscaped() throws {
        let template = try email()
        for name in ["\u{600}<img src=x onerror=y>", "a<b>\u{301}c", "\u{600}\"\u{301}'&"] {
            let values = ["customer.first_name": name, "offer_code": "X", "unsubscribe_url": "https://u/1"]
            let html = try #require(try template.render(values).get()["html"])
            #expect(!html.utf8.contains(UInt8(ascii: "\"")) && !html.utf8.contains(UInt8(ascii: "'")), "\(html)")
            #expect(html.utf8.filter { $0 == UInt8(ascii: "<") }.count == 4, "only the template's own tags: \(html)")
            // On bytes: a mark joins the reference's first or last character to its neighbour.
            let bytes = Array(html.utf8)
            #expect(bytes.firstRange(of: Array("&lt;".utf8)) != nil || bytes.firstRange(of: Array("&quot;".utf8)) != nil,
                    "\(html)")
        }
        #expect(PlainTemplate.htmlEscape("\u{600}<b>\u{301}") == "\u{600}&lt;b&gt;\u{301}")
        // A template with a section goes through the engine, which escapes the same way.
        let sectioned = try email("{{#offer_code}}<p>{{customer.first_name}}</p>{{/offer_code}}")
        #expect(!sectioned.isPlain)
        let html = try sectioned.render(
            ["customer.first_name": "\u{600}<img src=x>", "offer_code": "X", "unsubscribe_url": "u"]).get()["html"]
        #expect(html.map { Array($0.utf8) } == Array("<p>\u{600}&lt;img src=x&gt;</p>".utf8))
    }

    @Test("a required variable with no value suppresses the send, naming every missing variable")
    func missingVariable() throws {
        let failure = try #require(throws: RenderFailure.self) { try email().render(["customer.first_name": "Ana"]).get() }
        #expect(failure.missing == ["offer_code", "unsubscribe_url"])
        #expect(RenderFailure.reason == "render_failed")
        #expect(failure.description.contains("summer/A/pt"))
    }

    @Test("an undeclared variable is refused at compile time with the template, line and variable")
    func undeclared() throws {
        let error = try #require(throws: TemplateError.self) {
            try email("<p>Hi</p>\n<p>{{customer.first_name}}</p>\n<p>{{ loyalty_points }}</p>")
        }
        #expect(error.template == "summer/A/pt.html")
        #expect(error.line == 3)
        #expect(error.variable == "loyalty_points")
        #expect(error.description == "Template summer/A/pt.html, line 3: variable \"loyalty_points\": is used but not declared; declare it with a default, or pass it with every send.")
    }

    @Test("bad templates are refused with where they went wrong", arguments: [
        ("<p>{{offer_code</p>", 1, nil as String?),
        ("line one\n{{#offer_code}}open but never closed", 2, nil),
        ("{{=<% %>=}}", 1, nil),
        ("{{}}", 1, nil),
        ("{{bad name}}", 1, "bad name"),
        ("\n\n{{#offer_code}}x{{/unsubscribe_url}}", 3, nil),
    ])
    func badTemplates(source: String, line: Int, variable: String?) throws {
        let error = try #require(throws: TemplateError.self) { try email(source) }
        #expect(error.line == line, "\(error)")
        #expect(error.variable == variable)
        #expect(error.template == "summer/A/pt.html")
    }

    @Test("bad declarations are refused")
    func badDeclarations() {
        #expect(throws: TemplateError.self) {
            try MessageTemplate(name: "t", parts: [:], variables: [TemplateVariable("a"), TemplateVariable("a")])
        }
        #expect(throws: TemplateError.self) {
            try MessageTemplate(name: "t", parts: [:], variables: [TemplateVariable("1abc")])
        }
    }

    @Test("sections render conditionally on a variable")
    func sections() throws {
        let template = try MessageTemplate(
            name: "t", parts: ["body": (.text, "Hi{{#offer_code}}, code {{offer_code}}{{/offer_code}}{{^offer_code}}!{{/offer_code}}")],
            variables: [TemplateVariable("offer_code", default: "")])
        #expect(try template.render(["offer_code": "A1"]).get()["body"] == "Hi, code A1")
        #expect(try template.render([:]).get()["body"] == "Hi!")
    }
}
