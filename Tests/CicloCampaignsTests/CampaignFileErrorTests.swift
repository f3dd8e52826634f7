import CicloCampaigns
import Foundation
import Testing

@Suite("campaign files: bad files are refused, naming the problem")
struct CampaignFileErrorTests {
    /// The error reading `text`, or nil if it reads.
    func error(_ text: String, catalogue: AttributeCatalogue = CampaignFixtures.catalogue) -> ConfigError? {
        do {
            _ = try CampaignFile.parse(text, file: "c.yaml", catalogue: catalogue)
            return nil
        } catch {
            return error
        }
    }

    /// Breaks the recurring fixture by replacing `old` with `new`, and checks the error names `problem` at `path`
    /// on the line where `lineOf` now stands (when given).
    func expectError(
        replacing old: String, with new: String, in base: String = CampaignFixtures.recurring, path: String,
        _ problem: String, lineOf: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let text = CampaignFixtures.replacing(old, with: new, in: base)
        guard let error = error(text) else {
            Issue.record("the file was accepted", sourceLocation: sourceLocation)
            return
        }
        #expect(error.file == "c.yaml", sourceLocation: sourceLocation)
        #expect(error.path == path, "\(error)", sourceLocation: sourceLocation)
        #expect(error.problem.contains(problem), "\(error)", sourceLocation: sourceLocation)
        if let lineOf {
            #expect(error.line == CampaignFixtures.line(of: lineOf, in: text), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("an attribution window that is not whole days from 1 to 365 is refused")
    func attributionWindow() {
        for bad in ["36h", "0d", "400d"] {
            expectError(replacing: "transactional: false", with: "transactional: false\nattribution_window: \(bad)",
                        path: "attribution_window", "attribution_window is whole days from 1d to 365d")
        }
        expectError(replacing: "transactional: false", with: "transactional: false\nattribution_window: 7",
                    path: "attribution_window", "expected a duration")
    }

    @Test("an unknown field names the field and its line")
    func unknownField() {
        expectError(replacing: "priority: 5", with: "priority: 5\ncolour: red", path: "",
                    #"unknown field "colour"; expected one of:"#, lineOf: "colour")
        expectError(replacing: "cooldown_days: 21", with: "cooldown_days: 21\n  cooldown: 3", path: "recurring",
                    #"unknown field "cooldown""#, lineOf: "cooldown: 3")
        expectError(replacing: "    persona: b2c-bargain-hunter", with: "    personna: x", path: "variants[0]",
                    #"unknown field "personna""#)
    }

    @Test("required fields, kinds, channels and statuses")
    func basics() {
        expectError(replacing: "name: Win-back cycle\n", with: "", path: "", #"missing required field "name""#)
        expectError(replacing: "kind: recurring", with: "kind: weekly", path: "kind",
                    #""weekly" is not a kind; expected one of: recurring, trigger, experience, adhoc"#)
        expectError(replacing: "channel: email", with: "channel: fax", path: "channel",
                    #""fax" is not a channel; expected one of: email, sms, push, webhook"#)
        expectError(replacing: "status: active", with: "status: running", path: "status", "is not a status")
        expectError(replacing: "key: winback-cycle", with: "key: win back!", path: "key", "is not a usable key")
        expectError(replacing: "priority: 5", with: "priority: 40000", path: "priority", "between -32768 and 32767")
    }

    @Test("the kind's section must be there, and no other kind's")
    func sections() {
        expectError(replacing: "kind: recurring", with: "kind: trigger", path: "recurring",
                    #"a trigger campaign takes no "recurring" section"#)
        let noSection = CampaignFixtures.replacing(
            "recurring:\n  schedule: {cron: \"0 9 * * *\", timezone: Europe/Lisbon}\n  cooldown_days: 21\n", with: "")
        #expect(error(noSection)?.problem == #"a recurring campaign needs a "recurring" section"#)
        expectError(replacing: "variants:", with: "trigger: {event: deposit, window: 1d}\nvariants:", path: "trigger",
                    #"a recurring campaign takes no "trigger" section; remove it, or set kind: trigger"#,
                    lineOf: "trigger:")
    }

    @Test("a bad cron expression names the field at fault")
    func badCron() {
        expectError(replacing: #"cron: "0 9 * * *""#, with: #"cron: "61 9 * * *""#, path: "recurring.schedule.cron",
                    #""61 9 * * *" is not a valid cron expression: minute: 61 is out of range 0-59"#,
                    lineOf: "61 9")
        expectError(replacing: #"cron: "0 9 * * *""#, with: #"cron: "* * *""#, path: "recurring.schedule.cron",
                    "has 3 fields")
        expectError(replacing: "timezone: Europe/Lisbon", with: "timezone: Mars/Olympus",
                    path: "recurring.schedule.timezone", "is not an IANA time zone name")
        expectError(replacing: #"cron: "0 9 * * *", timezone: Europe/Lisbon"#, with: "every: 1d, cron: \"0 9 * * *\"",
                    path: "recurring.schedule", "give either cron or every, not both")
    }

    @Test("durations, shares and dates")
    func values() {
        expectError(replacing: "delay: 30m", with: "delay: 30 minutes", in: CampaignFixtures.trigger,
                    path: "trigger.delay", #"expected a duration such as 30m, 2h or 1d, found "30 minutes""#)
        expectError(replacing: "window: 2d", with: "window: 10m", in: CampaignFixtures.trigger, path: "trigger.window",
                    "the window (10m) must be longer than the delay (30m)")
        expectError(replacing: "holdout: 0.10", with: "holdout: 1", path: "holdout", "in [0, 1)")
        expectError(replacing: "holdout: 0.10", with: "holdout: -0.1", path: "holdout", "in [0, 1)")
        expectError(replacing: "holdout: 0.10", with: "holdout: 0.12345", path: "holdout", "more than four decimals")
        expectError(replacing: "ends_at: 2026-12-31T00:00:00Z", with: "ends_at: 2025-12-31T00:00:00Z", path: "ends_at",
                    "ends before it starts")
        expectError(replacing: "starts_at: 2026-01-01T00:00:00Z", with: "starts_at: next monday", path: "starts_at",
                    "expected a time such as 2026-01-01T09:00:00Z")
        expectError(replacing: "cooldown_days: 21", with: "cooldown_days: -1", path: "recurring.cooldown_days",
                    "must be 0 or more days")
    }

    @Test("variants and templates must be there")
    func missingTemplates() {
        let noVariants = CampaignFixtures.replacing("variants:\n", with: "variants: []\nold_variants:\n")
        #expect(error(noVariants)?.path == "", "the unknown field comes first")
        let empty = String(CampaignFixtures.recurring[..<CampaignFixtures.recurring.range(of: "variants:")!.lowerBound])
            + "variants: []\n"
        #expect(error(empty)?.problem == "a campaign needs at least one variant")
        expectError(replacing: "  - name: B\n    templates:\n", with: "  - name: B\n    unused:\n", path: "variants[1]",
                    #"unknown field "unused""#)
        let noTemplates = CampaignFixtures.replacing(
            #"      en: {subject: Come back, html: "<p>{{offer_code}}</p>", text: "Code {{offer_code}}", variables: [offer_code]}"#,
            with: "").replacingOccurrences(of: "  - name: B\n    templates:\n", with: "  - name: B\n")
        #expect(error(noTemplates)?.problem.contains(#"variant "B" has no templates"#) == true, "\(String(describing: error(noTemplates)))")
        expectError(replacing: "variant: comfort", with: "variant: console", in: CampaignFixtures.experience,
                    path: "experience.tones[1].variant",
                    #"tone "big_loss" names variant "console", which does not exist; the variants are: celebrate, comfort"#)
        expectError(replacing: "  - name: B", with: "  - name: A", path: "variants[1].name", #"variant "A" is given twice"#)
    }

    @Test("a template's parts must be ones its channel uses, and the needed ones must be there")
    func parts() {
        expectError(replacing: "subject: Come back", with: "body: Come back", path: "variants[1].templates.en.body",
                    #"email campaigns do not use a "body" part; their templates have subject, html, text and variables"#)
        expectError(replacing: "subject: Come back, ", with: "", path: "variants[1].templates.en",
                    #"the en template of variant "B" has no subject part, which email messages need"#)
        expectError(replacing: #"{body: "Thanks"#, with: #"{subject: "Thanks"#, in: CampaignFixtures.trigger,
                    path: "variants[0].templates.en.subject", #"sms campaigns do not use a "subject" part"#)
        expectError(replacing: "      pt:", with: "      portuguese:", path: "variants[0].templates.portuguese",
                    #""portuguese" is not a locale"#)
    }

    @Test("a template using an undeclared variable names the template, the line and the variable")
    func undeclaredVariable() {
        expectError(replacing: "<p>Use {{offer_code}} for 10% off.</p>", with: "<p>Use {{offer}} for 10% off.</p>",
                    path: "variants[0].templates.en.html",
                    #"template winback-cycle/A/en.html: variable "offer" is used but not declared"#,
                    lineOf: "{{offer}}")
        expectError(replacing: #"subject: "Temos saudades, {{customer.first_name}}""#,
                    with: #"subject: "Temos saudades, {{customer.last_name}}""#,
                    path: "variants[0].templates.pt.subject",
                    #"template winback-cycle/A/pt.subject: variable "customer.last_name" is used but not declared"#,
                    lineOf: "customer.last_name")
        expectError(replacing: "variables: [offer_code]}", with: "variables: [offer_code, offer_code]}",
                    path: "variants[1].templates.en.variables", #"variable "offer_code" is declared twice"#)
    }

    @Test("a template that does not parse names the template and its line")
    func mustacheSyntax() {
        expectError(replacing: "<p>Use {{offer_code}} for 10% off.</p>", with: "<p>Use {{#offer_code}} for 10% off.</p>",
                    path: "variants[0].templates.en.html", "template winback-cycle/A/en.html does not parse")
        expectError(replacing: "<p>Use {{offer_code}} for 10% off.</p>", with: "<p>Use {{offer_code for 10% off.</p>",
                    path: "variants[0].templates.en.html", "has a tag that is never closed", lineOf: "{{offer_code for")
    }

    @Test("delivery settings are checked with the keys workers read")
    func delivery() {
        expectError(replacing: #"from: "Loja <ofertas@example.com>""#, with: "from: not an address",
                    path: "delivery.email.from", #""not an address" is not a usable email address"#)
        expectError(replacing: "reply_to: help@example.com", with: "replyto: help@example.com",
                    path: "delivery.email", #"unknown field "replyto"; expected one of: from, reply_to"#)
        expectError(replacing: "delivery: {email:", with: "delivery: {sms: {max_segments: 2}, email:",
                    path: "delivery.sms", "this is a email campaign; its sms settings would never be read")
        expectError(replacing: "max_segments: 2", with: "max_segments: 0", in: CampaignFixtures.trigger,
                    path: "delivery.sms.max_segments", "must be 1 or more")
        expectError(replacing: "transliterate: true", with: "transliterate: yes", in: CampaignFixtures.trigger,
                    path: "delivery.sms.transliterate", "expected true or false")
    }

    @Test("a segment naming an attribute the catalogue lacks is refused")
    func unknownAttribute() {
        let text = CampaignFixtures.replacing("segment: at-risk-players",
                                              with: "segment: {attribute: {loyalty_tier: {eq: gold}}}")
        let error = error(text)
        #expect(error?.problem.contains(#"unknown attribute "loyalty_tier""#) == true, "\(String(describing: error))")
        #expect(error?.line == CampaignFixtures.line(of: "loyalty_tier", in: text))
    }

    @Test("not YAML at all")
    func notYAML() {
        #expect(error("key: [unclosed")?.problem.hasPrefix("not valid YAML or JSON") == true)
        #expect(error("")?.problem == "the document is empty")
        #expect(error("- a list")?.problem == "expected a mapping")
    }
}
