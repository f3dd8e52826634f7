import CicloTestSupport
import Postgres
import Testing

@testable import CicloReports

/// The fold's two lookups per response (0016): its send's delivery, and earlier responses of the same send, kind
/// and machine flag (first-of-kind). Both are answered from an index alone. A column added to either probe but not
/// to its index brings back a heap fetch on a random page for every folded response, in every partition: on 10M
/// raw outcomes that was 10 buffers per response instead of 7.
@Suite(.serialized) struct FoldLookupTests {
    @Test func responseProbesAreIndexOnly() async throws {
        try await ReportFixture.with { f in
            let first = try await f.customers(20_000, prefix: "probe")
            let campaign = try await f.campaign("probe")
            try await f.sends(
                campaign: campaign, key: "probe", firstCustomer: first, count: 20_000, at: "2026-03-01T10:00:00Z")
            try await f.responses(
                campaign: campaign, key: "probe", kind: "open", count: 20_000, at: "2026-03-01T11:00:00Z", copies: 2)
            // Index-only scans are chosen where the visibility map says the pages are all-visible.
            try await f.conn.query("VACUUM ANALYZE deliveries")
            try await f.conn.query("VACUUM ANALYZE responses")

            let plan = try await f.conn.query(
                "EXPLAIN " + FoldStatements.responses, ["0", 0, "999999999", 100]
            ).map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
            // March 2026 has no monthly partition in a database migrated now: the rows are in DEFAULT.
            #expect(plan.contains("Index Only Scan using deliveries_default_idempotency_key_campaign_id"), "\(plan)")
            #expect(plan.contains("Index Only Scan using responses_default_idempotency_key_kind_machine"), "\(plan)")
            #expect(!plan.contains("Index Scan using responses_default_idempotency_key"), "\(plan)")
            #expect(!plan.contains("Index Scan using deliveries_default_idempotency_key"), "\(plan)")
        }
    }
}
