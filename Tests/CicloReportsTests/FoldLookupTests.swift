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

/// A chunk is the first rows of an ordered walk of each partition's (fold_xid, id) index, merged and cut by the
/// LIMIT, even when every row after the cursor was written by the cursor's own transaction (a bulk import, a
/// generated backlog): the planner estimates the cursor's row comparison by fold_xid alone and expects no rows,
/// and without FoldStatements.chunkSettings it read and sorted every remaining row for each chunk.
@Suite(.serialized) struct FoldChunkPlanTests {
    @Test func chunksWalkTheFoldIndexWhenOneTransactionWroteEverything() async throws {
        try await ReportFixture.with { f in
            let first = try await f.customers(20_000, prefix: "walk")
            let campaign = try await f.campaign("walk")
            try await f.sends(
                campaign: campaign, key: "walk", firstCustomer: first, count: 20_000, at: "2026-03-01T10:00:00Z")
            try await f.responses(
                campaign: campaign, key: "walk", kind: "open", count: 20_000, at: "2026-03-01T11:00:00Z")
            try await f.purchases(firstCustomer: first, count: 20_000, every: 1, at: "2026-03-02T10:00:00Z")
            for table in ["deliveries", "responses", "events"] { try await f.conn.query("VACUUM ANALYZE \(table)") }

            for (source, table) in [("deliveries", "deliveries"), ("responses", "responses"), ("events", "events")] {
                // The cursor sits inside the transaction that wrote every row, a tenth of the way in.
                let cursor = try await f.conn.query(
                    "SELECT fold_xid::text, min(id) + 2000 FROM \(table) GROUP BY fold_xid"
                ).single()
                let (xid, id) = (try cursor.decode(String.self, at: 0), try cursor.decode(Int64.self, at: 1))
                let plan = try await f.conn.withTransaction { conn in
                    try await conn.query(FoldStatements.chunkSettings)
                    return try await conn.query(
                        "EXPLAIN " + Aggregator.statement(.init(rawValue: source)!), [xid, id, "999999999", 1000]
                    ).map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
                }
                // The walk: a Merge Append in (fold_xid, id) order; never a Sort node putting rows in that order.
                let lines = plan.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                let walk = /^Sort Key: \w+\.fold_xid, \w+\.id$/
                let merged = zip(lines, lines.dropFirst()).contains { $0.contains("Merge Append") && $1.contains(walk) }
                let sorted = zip(lines, lines.dropFirst()).contains { $0.hasPrefix("->  Sort ") && $1.contains(walk) }
                #expect(merged && !sorted, "\(source): \(plan)")
            }
        }
    }
}
