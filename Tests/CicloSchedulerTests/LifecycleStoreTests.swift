import CicloCampaigns
import CicloScheduler
import CicloTestSupport
import Foundation
import Postgres
import Testing

/// The example configuration, read from examples/ciclo.yaml.
func exampleConfiguration() throws -> LifecycleConfiguration {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/ciclo.yaml")
    return try LifecycleConfiguration.parse(try String(contentsOf: url, encoding: .utf8), file: url.path)
}

/// Stored configurations come back with channels in name order.
func sortedPolicy(_ configuration: LifecycleConfiguration) -> LifecycleConfiguration {
    var copy = configuration
    copy.contactPolicy.sort { $0.channel < $1.channel }
    copy.providerLimits.sort { $0.channel < $1.channel }
    return copy
}

/// Runs `body` on a fresh migrated database, closed and dropped afterwards whatever happens.
func withMigratedDatabase(_ body: (MigrationDatabase, PostgresConnection) async throws -> Void) async throws {
    let db = try await MigrationDatabase.migrated()
    let conn = try await db.connect()
    try await closing(db, conn) { try await body(db, conn) }
}

/// Runs `body`, then closes `conn` and drops `db` whatever happens, with awaited calls: a drop left to a detached
/// task may still be connecting when a test process exits (libpq's Kerberos code then aborts on a mutex torn down
/// at exit, after the tests passed).
func closing(_ db: MigrationDatabase, _ conn: PostgresConnection, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch {
        await conn.close()
        await db.drop()
        throw error
    }
    await conn.close()
    await db.drop()
}

@Suite("Lifecycle store (config apply and show) on a real database")
struct LifecycleStoreTests {
    @Test("the migration seeds the ten default stages with objectives")
    func defaults() async throws {
        try await withMigratedDatabase { _, conn in
            let stored = try await LifecycleStore().load(on: conn)
            #expect(stored.stages.map(\.key) == [
                "attract", "capture", "nurture", "convert", "expand", "new", "active", "at_risk", "churned", "reactivated",
            ])
            #expect(stored.stage("nurture")?.objective.kpi == "marketing_qualified_leads")
            #expect(stored.stages == (try exampleConfiguration()).stages)
        }
    }

    @Test("apply stores every section and load gives back the same configuration")
    func applyAndLoad() async throws {
        try await withMigratedDatabase { _, conn in
            var config = try exampleConfiguration()
            config.transitions.append(.init(name: "big_deposit", from: "active", to: "reactivated",
                                            trigger: .event(kind: "deposit", filter: #"{"amount":{"gte":100}}"#)))
            let summary = try await LifecycleStore().apply(config, on: conn)
            #expect(summary == .init(stages: 10, transitions: 12, scoredEventKinds: 6, attributes: 6, channels: 3,
                                     globalHoldout: true, providerLimits: 3))
            #expect(try await LifecycleStore().load(on: conn) == sortedPolicy(config))

            let policy = try await conn.query("""
                SELECT channel || ' ' || max_sends || '/' || per_days || ' ' || quiet_start || '-' || quiet_end
                FROM contact_policy ORDER BY channel
                """).map { try $0.decode(String.self, at: 0) }
            #expect(policy == ["email 3/7 22:00:00-08:00:00", "push 5/7 21:00:00-08:00:00", "sms 2/7 21:00:00-08:00:00"])
            let holdout = try await conn.query(
                "SELECT (value->>'share')::float8, value->>'salt' FROM settings WHERE key = 'global_holdout'").single()
            #expect(try holdout.decode(Double.self, at: 0) == 0.02)
            #expect(try holdout.decode(String.self, at: 1) == "ciclo-global-holdout-2026")
            let types = try await conn.query("SELECT type FROM customer_attributes WHERE name = 'vip'").scalar(String.self)
            #expect(types == "boolean")
            // The reporter reads conversion kinds from the stage's row (CicloReports/Attribution.swift).
            let kinds = try await conn.query(
                "SELECT array_to_string(conversion_kinds, ' ') FROM lifecycle_stages WHERE key = 'nurture'"
            ).scalar(String.self)
            #expect(kinds == "demo_request trial_start sign_up")

            // A smaller file replaces everything: sections left out are emptied.
            let small = try LifecycleConfiguration.parse("""
                stages:
                  b2c:
                    - {key: new, objective: {kpi: activation_rate, target: 0.5}}
                    - {key: active, objective: {kpi: monthly_active_rate, target: 0.7}}
                """, file: "small.yaml")
            try await LifecycleStore().apply(small, on: conn)
            #expect(try await LifecycleStore().load(on: conn) == small)
            let left = try await conn.query("""
                SELECT (SELECT count(*) FROM contact_policy) + (SELECT count(*) FROM customer_attributes)
                     + (SELECT count(*) FROM settings WHERE key IN ('global_holdout', 'lead_scoring'))
                     + (SELECT count(*) FROM lead_score_points) + (SELECT count(*) FROM lifecycle_transition_rules)
                """).scalar(Int.self)
            #expect(left == 0)
        }
    }

    @Test("a stage still used by customers or a live campaign is not dropped, and nothing is applied")
    func refuseDroppingStagesInUse() async throws {
        try await withMigratedDatabase { _, conn in
            let config = try exampleConfiguration()
            try await LifecycleStore().apply(config, on: conn)
            let ids = try await Seed.customers(3, on: conn)
            try await conn.query("UPDATE customers SET stage = 'churned' WHERE id = ANY($1::int8[])", [Array(ids[0..<2])])
            try await conn.query(
                "INSERT INTO campaigns (key, name, kind, channel, stage, salt) VALUES ('upsell', 'Upsell', 'recurring', 'email', 'expand', 's')")

            var withoutChurned = config
            withoutChurned.stages.removeAll { $0.key == "churned" }
            withoutChurned.transitions.removeAll { $0.to == "churned" || $0.from == "churned" }
            withoutChurned.attributes = AttributeCatalogue()
            await #expect {
                try await LifecycleStore().apply(withoutChurned, on: conn)
            } throws: { error in
                (error as? LifecycleStoreError)?.description
                    == "The configuration drops stage \"churned\" but 2 customers are in it; keep the stage in the file, or move them to another stage first"
            }
            var withoutExpand = config
            withoutExpand.stages.removeAll { $0.key == "expand" }
            withoutExpand.transitions.removeAll { $0.to == "expand" }
            await #expect {
                try await LifecycleStore().apply(withoutExpand, on: conn)
            } throws: { error in
                (error as? LifecycleStoreError)?.description.contains("campaign upsell serves it") == true
            }
            #expect(try await LifecycleStore().load(on: conn) == sortedPolicy(config), "nothing half-applied")

            // Once nobody uses them, the stages go (archived campaigns do not hold a stage).
            try await conn.query("UPDATE customers SET stage = 'at_risk' WHERE stage = 'churned'")
            try await conn.query("UPDATE campaigns SET status = 'archived'")
            withoutChurned.stages.removeAll { $0.key == "expand" }
            withoutChurned.transitions.removeAll { $0.to == "expand" }
            try await LifecycleStore().apply(withoutChurned, on: conn)
            #expect(try await LifecycleStore().load(on: conn).stages.count == 8)
        }
    }
}
