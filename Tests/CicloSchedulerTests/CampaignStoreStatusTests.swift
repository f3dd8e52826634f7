import CicloCampaigns
import CicloScheduler
import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite("campaign store: status, listing and loading")
struct CampaignStoreStatusTests {
    func expectStatusError(_ body: () async throws -> Campaign.Status, _ text: String,
                           sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            let status = try await body()
            Issue.record("became \(status)", sourceLocation: sourceLocation)
        } catch let error as CampaignStoreError {
            #expect(error.description == text, sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("pause, resume and archive follow the status rules; archived is final")
    func transitions() async throws {
        let fixture = try await CampaignStoreFixture.make()
        let store = fixture.store
        _ = try await fixture.apply(StoreFiles.trigger)
        await expectStatusError({ try await store.pause(key: "deposit-thanks") },
                                "Campaign deposit-thanks is a draft, which does not run; there is nothing to pause")
        #expect(try await store.resume(key: "deposit-thanks") == .active)
        await expectStatusError({ try await store.resume(key: "deposit-thanks") }, "Campaign deposit-thanks is already active")
        #expect(try await store.pause(key: "deposit-thanks") == .paused)
        await expectStatusError({ try await store.pause(key: "deposit-thanks") }, "Campaign deposit-thanks is already paused")
        #expect(try await store.resume(key: "deposit-thanks") == .active)
        #expect(try await store.archive(key: "deposit-thanks") == .archived)
        await expectStatusError({ try await store.resume(key: "deposit-thanks") },
                                "Campaign deposit-thanks is archived, which is final; apply the file under a new key to run it again")
        await expectStatusError({ try await store.archive(key: "deposit-thanks") },
                                "Campaign deposit-thanks is archived, which is final; apply the file under a new key to run it again")
        await expectStatusError({ try await store.pause(key: "nope") },
                                "No campaign has the key nope; `ciclo campaign list` shows them")
        #expect(try await fixture.conn.query("SELECT status FROM campaigns").scalar(String.self) == "archived")
        await fixture.close()
    }

    @Test("a re-applied file keeps the status an operator set, unless it names one")
    func statusOnApply() async throws {
        let fixture = try await CampaignStoreFixture.make()
        _ = try await fixture.apply(StoreFiles.trigger)
        _ = try await fixture.store.resume(key: "deposit-thanks")
        let edited = StoreFiles.replacing("Thanks!", with: "Thank you!", in: StoreFiles.trigger)
        #expect(try await fixture.apply(edited).status == .active)
        let paused = StoreFiles.replacing("channel: sms", with: "channel: sms\nstatus: paused", in: edited)
        #expect(try await fixture.apply(paused).status == .paused)
        await fixture.close()
    }

    @Test("resuming a recurring campaign continues from its first slot from now, not from missed ones")
    func resumeRecurring() async throws {
        let fixture = try await CampaignStoreFixture.make()
        let march = ISO8601DateFormatter().date(from: "2026-03-01T10:00:00Z")!
        _ = try await fixture.apply(StoreFiles.replacing("status: active", with: "status: paused"), now: march)
        // Paused for a month; summer time in Lisbon by now, so 09:00 there is 08:00 UTC.
        let april = ISO8601DateFormatter().date(from: "2026-04-10T12:00:00Z")!
        #expect(try await fixture.store.resume(key: "winback-cycle", now: april) == .active)
        #expect(try await fixture.conn.query("SELECT next_run_at FROM campaigns").scalar(Date.self)
            == ISO8601DateFormatter().date(from: "2026-04-11T08:00:00Z"))
        await fixture.close()
    }

    @Test("list filters by status; loadActive parses every active campaign and reports broken ones apart")
    func listAndLoad() async throws {
        let fixture = try await CampaignStoreFixture.make()
        _ = try await fixture.store.apply([.init(text: StoreFiles.recurring, file: "a.yaml"),
                                           .init(text: StoreFiles.trigger, file: "b.yaml")])
        #expect(try await fixture.store.list().map(\.key) == ["deposit-thanks", "winback-cycle"])
        #expect(try await fixture.store.list(status: .draft).map(\.key) == ["deposit-thanks"])
        #expect(try await fixture.store.list(status: .archived).isEmpty)

        _ = try await fixture.store.resume(key: "deposit-thanks")
        var active = try await fixture.store.loadActive()
        #expect(active.campaigns.map(\.key) == ["winback-cycle", "deposit-thanks"], "highest priority first")
        #expect(active.campaigns[1].campaign.trigger?.delaySeconds == 600)
        #expect(active.failures.isEmpty)

        // A definition that no longer reads does not hide the others.
        try await fixture.conn.query(
            "UPDATE campaigns SET definition = definition - 'variants' WHERE key = 'deposit-thanks'")
        active = try await fixture.store.loadActive()
        #expect(active.campaigns.map(\.key) == ["winback-cycle"])
        #expect(active.failures.map(\.code) == [.invalidDefinition])
        #expect(active.failures.first?.description.contains("campaign deposit-thanks") == true)
        #expect(try await fixture.store.load(key: "nope") == nil)
        await fixture.close()
    }

    @Test("show gives the latest template versions and the decision counts")
    func show() async throws {
        let fixture = try await CampaignStoreFixture.make()
        _ = try await fixture.apply(StoreFiles.recurring)
        _ = try await fixture.apply(StoreFiles.replacing("Temos saudades", with: "Volte"))
        let customers = try await Seed.customers(5, on: fixture.conn)
        try await fixture.conn.query("""
            INSERT INTO send_decisions (campaign_id, customer_id, occasion, channel, outcome, reason, offer_family,
                                        marketing, due_at, decided_at)
            SELECT (SELECT id FROM campaigns), c, 1, 'email', o, NULL, 'winback', true, now(), now()
            FROM unnest($1::int8[], $2::text[]) AS t(c, o)
            """, [customers, ["queued", "queued", "holdout", "capped", "no_consent"]])
        let details = try await fixture.store.show(key: "winback-cycle")
        #expect(details.summary.status == "active")
        #expect(details.campaign?.variants.count == 2)
        #expect(details.templates.map { "\($0.variant)/\($0.locale) v\($0.version)" } == ["A/en v1", "A/pt v2", "B/en v1"])
        #expect(details.queued == 2 && details.heldOut == 1 && details.excluded == 2)
        #expect(details.decisions == ["queued": 2, "holdout": 1, "capped": 1, "no_consent": 1])
        await #expect(throws: CampaignStoreError.self) { try await fixture.store.show(key: "nope") }
        await fixture.close()
    }
}
