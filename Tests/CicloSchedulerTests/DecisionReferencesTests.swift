@testable import CicloScheduler
import CicloTestSupport
import Foundation
import Postgres
import Testing

/// The decision log's references to customers and campaigns (schema/0010): checked once per statement instead of by
/// per-row foreign keys, with the same guarantees: no decision for a customer or campaign that does not exist,
/// deleting either deletes its decisions, and a delete cannot slip past a pass that is still writing.
@Suite struct DecisionReferencesTests {
    /// Decisions for the given customer ids, whether they exist or not.
    static let insertSQL = """
        INSERT INTO send_decisions (campaign_id, customer_id, occasion, channel, outcome, offer_family, marketing,
                                    due_at, decided_at)
        SELECT $1, c, $3, 'email', 'queued', 'refs', true, now(), now() FROM unnest($2::int8[]) c
        """
    /// Decisions the way a pass writes them: for the stored customers among the ids.
    static let passSQL = """
        INSERT INTO send_decisions (campaign_id, customer_id, occasion, channel, outcome, offer_family, marketing,
                                    due_at, decided_at)
        SELECT $1, c.id, 1, 'email', 'queued', 'refs', true, now(), now() FROM customers c WHERE c.id = ANY($2::int8[])
        """

    func expectForeignKeyViolation(_ text: String, sourceLocation: SourceLocation = #_sourceLocation,
                                   _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("the statement was accepted", sourceLocation: sourceLocation)
        } catch let error as PostgresError {
            #expect(error.sqlState == "23503", sourceLocation: sourceLocation)
            #expect(error.message.contains(text), "\(error.message)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
    }

    /// A fresh migrated database with `customers` customers, run through `body` on one connection.
    func withCustomers(_ customers: Int,
                       _ body: (MigrationDatabase, PostgresConnection, [Int64]) async throws -> Void) async throws {
        let db = try await MigrationDatabase.migrated()
        defer { Task { await db.drop() } }
        let conn = try await db.connect()
        try await body(db, conn, try await Seed.customers(customers, on: conn))
        await conn.close()
    }

    @Test("a decision naming a missing customer or campaign is refused, and nothing of the statement is kept")
    func missingReferences() async throws { try await withCustomers(3) { _, conn, ids in
        let campaign = try await EligibilityStatementTests.insertCampaign("refs", on: conn)

        try await conn.query(Self.insertSQL, [campaign, ids, 1])
        await expectForeignKeyViolation("names a customer that does not exist") {
            try await conn.query(Self.insertSQL, [campaign, ids + [ids.max()! + 1000], 2])
        }
        await expectForeignKeyViolation("names a campaign that does not exist") {
            try await conn.query(Self.insertSQL, [campaign + 1000, ids, 1])
        }
        await expectForeignKeyViolation("names a customer that does not exist") {
            try await conn.query("UPDATE send_decisions SET customer_id = customer_id + 1000 WHERE customer_id = $1", [ids[0]])
        }
        await expectForeignKeyViolation("cannot change") {
            try await conn.query("UPDATE customers SET id = DEFAULT WHERE id = $1", [ids[0]])
        }
        let kept: [Int64] = try await conn.query("SELECT customer_id FROM send_decisions ORDER BY 1").map { try $0.decode(at: 0) }
        #expect(kept == ids)
    } }

    @Test("deleting customers or a campaign deletes their decisions; truncating customers empties the log")
    func cascades() async throws { try await withCustomers(4) { _, conn, ids in
        let first = try await EligibilityStatementTests.insertCampaign("refs-a", on: conn)
        let second = try await EligibilityStatementTests.insertCampaign("refs-b", on: conn)
        try await conn.query(Self.insertSQL, [first, ids, 1])
        try await conn.query(Self.insertSQL, [second, ids, 1])

        try await conn.query("DELETE FROM customers WHERE id = ANY($1)", [Array(ids.prefix(2))])
        let left: [Int64] = try await conn.query("SELECT DISTINCT customer_id FROM send_decisions ORDER BY 1")
            .map { try $0.decode(at: 0) }
        #expect(left == Array(ids.suffix(2)))
        try await conn.query("DELETE FROM campaigns WHERE id = $1", [first])
        #expect(try await conn.query("SELECT count(*) FROM send_decisions WHERE campaign_id = $1", [first]).scalar(Int.self) == 0)
        #expect(try await conn.query("SELECT count(*) FROM send_decisions").scalar(Int.self) == 2)
        try await conn.executeScript("TRUNCATE customers CASCADE")
        #expect(try await conn.query("SELECT count(*) FROM send_decisions").scalar(Int.self) == 0)
    } }

    @Test("a customer delete waits for a pass still writing, then deletes what it wrote; a pass waits for a delete")
    func deleteAndPassDoNotRace() async throws { try await withCustomers(2) { db, pass, ids in
        let eraser = try await db.connect()
        let campaign = try await EligibilityStatementTests.insertCampaign("refs", on: pass)

        // The pass has written (uncommitted) when the delete starts: the delete must wait, then remove the row.
        try await pass.executeScript("BEGIN")
        try await pass.query(Self.passSQL, [campaign, [ids[0]]])
        let delete = Task { try await eraser.query("DELETE FROM customers WHERE id = $1", [ids[0]]) }
        // Polled, from a connection of its own: on a loaded machine the delete can take more than half a second to
        // reach the server, and inside the pass's transaction pg_stat_activity would stay as first read.
        let observer = try await db.connect()
        let waiting = try await eventually(.seconds(30)) {
            try await observer.query("""
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM customers%'
                """).scalar(Int.self) == 1
        }
        await observer.close()
        #expect(waiting, "the delete waits for the pass's uncommitted rows")
        try await pass.executeScript("COMMIT")
        _ = try await delete.value
        #expect(try await pass.query("SELECT count(*) FROM send_decisions").scalar(Int.self) == 0)

        // The delete is in flight when the pass starts: the pass waits, then no longer sees the customer.
        try await eraser.executeScript("BEGIN")
        try await eraser.query("DELETE FROM customers WHERE id = $1", [ids[1]])
        let late = Task { try await pass.query(Self.passSQL, [campaign, [ids[1]]]) }
        try await Task.sleep(for: .milliseconds(500))
        try await eraser.executeScript("COMMIT")
        #expect(try await late.value.affectedRows == 0)
        #expect(try await pass.query("SELECT count(*) FROM send_decisions").scalar(Int.self) == 0)
        await eraser.close()
    } }
}
