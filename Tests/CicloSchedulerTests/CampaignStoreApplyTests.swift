import CicloCampaigns
import CicloScheduler
import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite("campaign store: apply")
struct CampaignStoreApplyTests {
    let march = ISO8601DateFormatter().date(from: "2026-03-01T10:00:00Z")!

    @Test("apply stores the row, the definition as JSON, and one template version per variant and locale")
    func create() async throws {
        let fixture = try await CampaignStoreFixture.make()
        let applied = try await fixture.apply(StoreFiles.recurring, now: march)
        #expect(applied.change == .created)
        #expect(applied.status == .active)
        #expect(applied.newTemplates.map { "\($0.variant)/\($0.locale) v\($0.version)" } == ["A/en v1", "A/pt v1", "B/en v1"])
        // The first 09:00 in Lisbon (UTC+0 in March before the change) after now.
        #expect(applied.nextRunAt == ISO8601DateFormatter().date(from: "2026-03-02T09:00:00Z"))

        let row = try await fixture.conn.query("""
            SELECT kind, channel, status, priority::int8, starts_at, ends_at, holdout_share::float8, stage, offer_family,
                   transactional, salt, length(source_sha256)::int8, next_run_at,
                   definition -> 'delivery' = '{"email": {"from": "Loja <ofertas@example.com>"}}'::jsonb,
                   jsonb_typeof(definition -> 'exclude' -> 1), definition ->> 'segment'
            FROM campaigns WHERE key = 'winback-cycle'
            """).single()
        #expect(try row.decode(String.self, at: 0) == "recurring")
        #expect(try row.decode(String.self, at: 1) == "email")
        #expect(try row.decode(String.self, at: 2) == "active")
        #expect(try row.decode(Int.self, at: 3) == 5)
        #expect(try row.decode(Date.self, at: 4) == ISO8601DateFormatter().date(from: "2026-01-01T00:00:00Z"))
        #expect(try row.decode(Date.self, at: 5) == ISO8601DateFormatter().date(from: "2026-12-31T00:00:00Z"))
        #expect(try row.decode(Double.self, at: 6) == 0.1)
        #expect(try row.decode(String.self, at: 7) == "At-risk")
        #expect(try row.decode(String.self, at: 8) == "winback")
        #expect(try row.decode(Bool.self, at: 9) == false)
        #expect(try row.decode(String.self, at: 10) == "winback-cycle", "the salt is the key")
        #expect(try row.decode(Int.self, at: 11) == 64)
        #expect(try row.decode(Date.self, at: 12) == applied.nextRunAt)
        #expect(try row.decode(Bool.self, at: 13), "the delivery section is kept as written")
        #expect(try row.decode(String.self, at: 14) == "object", "an inline segment stays inside the definition")
        #expect(try row.decode(String.self, at: 15) == "at-risk-players")

        let template = try await fixture.conn.query("""
            SELECT t.channel, t.persona, t.stage, t.parts, t.variables
            FROM message_templates t WHERE t.variant = 'A' AND t.locale = 'en'
            """).single()
        #expect(try template.decode(String.self, at: 0) == "email")
        #expect(try template.decode(String.self, at: 1) == "b2c-bargain-hunter")
        #expect(try template.decode(String.self, at: 2) == "At-risk")
        #expect(try template.decode(JSONB.self, at: 3).decode([String: String].self) == [
            "subject": "We miss you, {{customer.first_name}}", "html": "<p>Use {{offer_code}} for 10% off.</p>",
        ])
        let variables = try template.decode(JSONB.self, at: 4).decode([[String: String]].self)
        #expect(variables == [["name": "customer.first_name", "default": "there"], ["name": "offer_code"]])

        // The stored definition reads back to the campaign the file describes.
        let stored = try #require(try await fixture.store.load(key: "winback-cycle"))
        #expect(stored.salt == "winback-cycle" && stored.status == .active && stored.launches == 0)
        #expect(stored.campaign.variants.map(\.name) == ["A", "B"])
        #expect(stored.campaign.variables == ["offer_code": "COMEBACK10"])
        #expect(stored.nextRunAt == applied.nextRunAt)
        await fixture.close()
    }

    @Test("re-applying an unchanged file changes nothing and says so")
    func idempotent() async throws {
        let fixture = try await CampaignStoreFixture.make()
        _ = try await fixture.apply(StoreFiles.recurring, now: march)
        let before = try await fixture.row("winback-cycle")
        let again = try await fixture.apply(StoreFiles.recurring, now: march.addingTimeInterval(86_400 * 3))
        #expect(again.change == .unchanged)
        #expect(again.newTemplates.isEmpty)
        #expect(try await fixture.row("winback-cycle") == before, "not even updated_at moved")
        #expect(try await fixture.counts() == [1, 3])
        await fixture.close()
    }

    @Test("changed content adds a template version for that variant and locale only; old versions stay")
    func newVersion() async throws {
        let fixture = try await CampaignStoreFixture.make()
        _ = try await fixture.apply(StoreFiles.recurring, now: march)
        let id = try await fixture.conn.query("SELECT id FROM campaigns").scalar(Int64.self)
        let edited = StoreFiles.replacing("for 10% off.", with: "for 15% off.")
        let applied = try await fixture.apply(edited, now: march)
        #expect(applied.change == .updated)
        #expect(applied.newTemplates.map { "\($0.variant)/\($0.locale) v\($0.version)" } == ["A/en v2"])
        #expect(try await fixture.templates("winback-cycle") == ["A/en v1", "A/en v2", "A/pt v1", "B/en v1"])
        #expect(try await fixture.conn.query("""
            SELECT parts ->> 'html' FROM message_templates WHERE variant = 'A' AND locale = 'en' AND version = 1
            """).scalar(String.self) == "<p>Use {{offer_code}} for 10% off.</p>", "the old version is kept as it was")

        // A change outside the templates: the row changes, no template version is added, id and salt stay.
        let reprioritised = StoreFiles.replacing("priority: 5", with: "priority: 7", in: edited)
        let second = try await fixture.apply(reprioritised, now: march)
        #expect(second.change == .updated && second.newTemplates.isEmpty)
        let row = try await fixture.conn.query("SELECT id, salt, priority::int8 FROM campaigns").single()
        #expect(try row.decode(Int64.self, at: 0) == id)
        #expect(try row.decode(String.self, at: 1) == "winback-cycle")
        #expect(try row.decode(Int.self, at: 2) == 7)
        // A declared variable's default is content too.
        let defaults = StoreFiles.replacing("default: there", with: "default: friend", in: reprioritised)
        #expect(try await fixture.apply(defaults, now: march).newTemplates.map(\.version) == [3])
        await fixture.close()
    }

    @Test("next_run_at moves only when the schedule, start or end changes")
    func nextRun() async throws {
        let fixture = try await CampaignStoreFixture.make()
        _ = try await fixture.apply(StoreFiles.recurring, now: march)
        // The scheduler has moved on to a later slot; an edit of the wording must not move it back.
        try await fixture.conn.query("UPDATE campaigns SET next_run_at = '2026-03-05T09:00:00Z'")
        let reworded = StoreFiles.replacing("Come back", with: "Come back soon")
        let applied = try await fixture.apply(reworded, now: march)
        #expect(applied.nextRunAt == ISO8601DateFormatter().date(from: "2026-03-05T09:00:00Z"))
        let rescheduled = StoreFiles.replacing(#"cron: "0 9 * * *""#, with: #"cron: "30 18 * * *""#, in: reworded)
        let moved = try await fixture.apply(rescheduled, now: march)
        #expect(moved.nextRunAt == ISO8601DateFormatter().date(from: "2026-03-01T18:30:00Z"))
        // Other kinds have none.
        #expect(try await fixture.apply(StoreFiles.trigger, now: march).nextRunAt == nil)
        await fixture.close()
    }

    @Test("a dry run says what would change and writes nothing")
    func dryRun() async throws {
        let fixture = try await CampaignStoreFixture.make()
        let applied = try await fixture.apply(StoreFiles.recurring, now: march, dryRun: true)
        #expect(applied.change == .created)
        #expect(applied.newTemplates.count == 3)
        #expect(try await fixture.counts() == [0, 0])
        _ = try await fixture.apply(StoreFiles.recurring, now: march)
        let before = try await fixture.row("winback-cycle")
        let edited = StoreFiles.replacing("Temos saudades", with: "Volte")
        let wouldUpdate = try await fixture.apply(edited, now: march, dryRun: true)
        #expect(wouldUpdate.change == .updated)
        #expect(wouldUpdate.newTemplates.map { "\($0.variant)/\($0.locale) v\($0.version)" } == ["A/pt v2"])
        #expect(try await fixture.row("winback-cycle") == before)
        #expect(try await fixture.counts() == [1, 3])
        await fixture.close()
    }

    @Test("several files apply together, or not at all")
    func severalFiles() async throws {
        let fixture = try await CampaignStoreFixture.make()
        let sources = [CampaignStore.Source(text: StoreFiles.recurring, file: "a.yaml"),
                       CampaignStore.Source(text: StoreFiles.trigger, file: "b.yaml")]
        let applied = try await fixture.store.apply(sources, now: march)
        #expect(applied.map(\.key) == ["winback-cycle", "deposit-thanks"])
        #expect(applied.map(\.status) == [.active, .draft], "no status in the file: a new campaign is a draft")
        #expect(try await fixture.counts() == [2, 4])

        let other = try await CampaignStoreFixture.make()
        let broken = StoreFiles.replacing("window: 2h", with: "window: 2 hours", in: StoreFiles.trigger)
        await #expect(throws: ConfigError.self) {
            try await other.store.apply([CampaignStore.Source(text: StoreFiles.recurring, file: "a.yaml"),
                                         CampaignStore.Source(text: broken, file: "b.yaml")], now: march)
        }
        #expect(try await other.counts() == [0, 0], "the good file was not applied either")
        let twice = [CampaignStore.Source(text: StoreFiles.recurring, file: "a.yaml"),
                     CampaignStore.Source(text: StoreFiles.recurring, file: "copy.yaml")]
        do {
            _ = try await other.store.apply(twice, now: march)
            Issue.record("the same key in two files was accepted")
        } catch let error as ConfigError {
            #expect(error.description == "copy.yaml: key: campaign winback-cycle is also in a.yaml")
        }
        #expect(try await other.counts() == [0, 0])
        await fixture.close()
        await other.close()
    }

    @Test("an archived campaign stays archived, and kind and channel never change")
    func updateRules() async throws {
        let fixture = try await CampaignStoreFixture.make()
        _ = try await fixture.apply(StoreFiles.trigger, now: march)
        let before = try await fixture.row("deposit-thanks")
        let asRecurring = """
            key: deposit-thanks
            name: Thanks
            kind: recurring
            channel: sms
            segment: {stage: Active}
            recurring: {schedule: {every: 1d}, cooldown_days: 1}
            variants: [{name: thanks, templates: {en: {body: "Thanks!"}}}]
            """
        await expectRefusal(fixture, asRecurring, "kind: campaign deposit-thanks is stored as a trigger campaign and its kind cannot change")
        let asPush = StoreFiles.replacing("channel: sms", with: "channel: push", in: StoreFiles.trigger)
            .replacingOccurrences(of: "delivery: {sms: {max_segments: 1}}", with: "")
        await expectRefusal(fixture, asPush, "channel: campaign deposit-thanks is stored as a sms campaign and its channel cannot change")
        #expect(try await fixture.row("deposit-thanks") == before)

        _ = try await fixture.store.archive(key: "deposit-thanks")
        #expect(try await fixture.apply(StoreFiles.trigger).change == .unchanged, "the same file is still a no-op")
        let edited = StoreFiles.replacing("Thanks!", with: "Thank you!", in: StoreFiles.trigger)
        await expectRefusal(fixture, edited, "is archived, which is final")
        #expect(try await fixture.templates("deposit-thanks") == ["thanks/en v1"])
        await fixture.close()
    }

    func expectRefusal(_ fixture: CampaignStoreFixture, _ text: String, _ problem: String,
                       sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            _ = try await fixture.apply(text)
            Issue.record("accepted", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)".contains(problem), "\(error)", sourceLocation: sourceLocation)
        }
    }
}
