import CicloCampaigns
import CicloScheduler
import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite("campaign store: bad files are refused and nothing is written")
struct CampaignStoreRejectTests {
    /// Applies `text` to a database that holds the good recurring campaign already, expects a ConfigError whose
    /// text contains `problem`, and checks the stored campaign and templates did not change.
    func expectRefused(_ text: String, _ problem: String, sourceLocation: SourceLocation = #_sourceLocation)
        async throws
    {
        let fixture = try await CampaignStoreFixture.make()
        // Nothing stored yet: nothing is created.
        do {
            _ = try await fixture.apply(text, file: "bad.yaml")
            Issue.record("the file was accepted", sourceLocation: sourceLocation)
        } catch let error as ConfigError {
            #expect(error.file == "bad.yaml", sourceLocation: sourceLocation)
            #expect(error.description.contains(problem), "\(error)", sourceLocation: sourceLocation)
        }
        #expect(try await fixture.counts() == [0, 0], sourceLocation: sourceLocation)
        // Stored already: the row and its templates stay as they were.
        _ = try await fixture.apply(StoreFiles.recurring)
        let before = try await fixture.row("winback-cycle")
        await #expect(throws: ConfigError.self, sourceLocation: sourceLocation) {
            _ = try await fixture.apply(text, file: "bad.yaml")
        }
        #expect(try await fixture.row("winback-cycle") == before, sourceLocation: sourceLocation)
        #expect(try await fixture.templates("winback-cycle") == ["A/en v1", "A/pt v1", "B/en v1"],
                sourceLocation: sourceLocation)
        await fixture.close()
    }

    @Test("an unknown field")
    func unknownField() async throws {
        try await expectRefused(StoreFiles.replacing("priority: 5", with: "priority: 5\nsegmnet: x"),
                                #"bad.yaml:7: unknown field "segmnet""#)
    }

    @Test("a bad cron expression")
    func badCron() async throws {
        try await expectRefused(StoreFiles.replacing(#""0 9 * * *""#, with: #""0 9 * * * *""#),
                                #"bad.yaml:16: recurring.schedule.cron: "0 9 * * * *" is not a valid cron expression"#)
    }

    @Test("a missing template: a variant without one, a tone naming no variant")
    func missingTemplate() async throws {
        try await expectRefused(
            StoreFiles.replacing(#"      en: {subject: Come back, html: "<p>{{offer_code}}</p>", variables: [offer_code]}"#,
                                 with: "      {}"),
            #"variant "B" has no templates"#)
        try await expectRefused("""
            key: winback-cycle
            name: Moments
            kind: experience
            channel: sms
            segment: {stage: Active}
            experience:
              event: game_result
              tones: [{name: big_win, when: {amount: {gte: 1000}}, variant: celebrate}]
              window: 1h
            variants: [{name: comfort, templates: {en: {body: "Hi"}}}]
            """, #"bad.yaml:8: experience.tones[0].variant: tone "big_win" names variant "celebrate", which does not exist"#)
    }

    @Test("a template with an undeclared variable, or that does not parse")
    func badTemplates() async throws {
        try await expectRefused(
            StoreFiles.replacing("<p>Use {{offer_code}}.</p>", with: "<p>Use {{offer_code}} by {{deadline}}.</p>"),
            #"bad.yaml:28: variants[0].templates.pt.html: template winback-cycle/A/pt.html: variable "deadline" is used but not declared"#)
        try await expectRefused(
            StoreFiles.replacing("<p>Use {{offer_code}}.</p>", with: "<p>Use {{#offer_code}}.</p>"),
            "template winback-cycle/A/pt.html does not parse")
    }

    @Test("a named segment that does not exist")
    func unknownSegment() async throws {
        try await expectRefused(StoreFiles.replacing("segment: at-risk-players", with: "segment: at-risk-playerz"),
                                #"bad.yaml:12: segment: no segment named "at-risk-playerz" exists"#)
        try await expectRefused(StoreFiles.replacing("[vip-managed,", with: "[vip-manged,"),
                                #"bad.yaml:13: exclude[0]: no segment named "vip-manged" exists"#)
    }

    @Test("a segment naming an attribute the catalogue lacks")
    func unknownAttribute() async throws {
        try await expectRefused(StoreFiles.replacing("{attribute: {tier: gold}}", with: "{attribute: {loyalty: gold}}"),
                                #"unknown attribute "loyalty""#)
    }
}
