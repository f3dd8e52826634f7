import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite("0011: the raw tables become monthly partitions, keeping their rows")
struct PartitionMigrationTests {
    @Test("a database with rows in all three tables keeps every row, every column and its identity sequence")
    func keepsRows() async throws {
        let fixture = try await PartitionFixture.beforePartitioning()
        try await fixture.seed()
        let tables = ["events", "deliveries", "responses"]
        var before: [String: String] = [:]
        var lastIDs: [String: Int] = [:]
        var columns: [String: [String]] = [:]
        for table in tables {
            before[table] = try await fixture.fingerprint(table)
            lastIDs[table] = try await fixture.conn.query("SELECT last_value FROM \(table)_id_seq").scalar(Int.self)
            columns[table] = try await Self.columns(table, fixture.conn)
        }
        #expect(before["events"]?.hasPrefix("6 ") == true, "six rows seeded: \(before)")

        try await fixture.migrateAll()

        for table in tables {
            #expect(try await fixture.fingerprint(table) == before[table], "\(table) rows")
            #expect(try await fixture.conn.query(
                "SELECT relkind::text FROM pg_class WHERE oid = $1::regclass", [table]).scalar(String.self) == "p")
            // 0012 adds columns to responses after 0011: those before it must be unchanged, in their order.
            let now = try await Self.columns(table, fixture.conn)
            #expect(Array(now.prefix(columns[table]!.count)) == columns[table]!, "\(table) columns")
        }
        // The identity continues after the old sequence's last value, past the rolled-back insert's gap.
        try await fixture.insertRows(at: "now()", tag: "after")
        for table in tables {
            let newest = try await fixture.conn.query("SELECT max(id) FROM \(table)").scalar(Int.self)
            #expect(newest == lastIDs[table]! + 1, "\(table): new id \(newest) after \(lastIDs[table]!)")
        }
        for table in tables {
            let rows = try await fixture.partitions(of: table)
            #expect(rows["ancient"] == "\(table)_default", "2015 is older than 36 months: \(rows)")
            #expect(rows["r4"] == "\(table)_default", "160 days ahead is past the 3 months created ahead")
            for (n, days) in PartitionFixture.offsets.enumerated() where days <= 0 {
                #expect(rows["r\(n)"] == PartitionFixture.monthPartition(table, days: days), "\(table) r\(n)")
            }
        }
        // Keys and indexes carry the partition key, and the events' foreign key to customers still cascades.
        let keys = try await fixture.conn.query("""
            SELECT conrelid::regclass::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid IN ('events'::regclass, 'deliveries'::regclass, 'responses'::regclass)
              AND contype IN ('p', 'f') ORDER BY 1
            """).map { try $0.decode(String.self, at: 0) }
        #expect(keys == [
            "deliveries PRIMARY KEY (id, finished_at)",
            "events FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE",
            "events PRIMARY KEY (id, occurred_at)",
            "responses PRIMARY KEY (id, occurred_at)",
        ])
        #expect(try await fixture.conn.query(
            "SELECT pg_get_indexdef('events_source_id'::regclass)").scalar(String.self)
            == "CREATE UNIQUE INDEX events_source_id ON ONLY public.events USING btree (source_id, occurred_at)")
        try await fixture.conn.query("DELETE FROM customers")
        #expect(try await fixture.conn.query("SELECT count(*) FROM events").scalar(Int.self) == 0)
        await fixture.finish()
    }

    @Test("a fresh database gets the current month, three ahead and a DEFAULT partition for each table")
    func freshLayout() async throws {
        let fixture = try await PartitionFixture.fresh()
        let layout = try await fixture.layout()
        for table in ["deliveries", "events", "responses"] {
            var expected = ["\(table)_default=0"]
            for month in 0...3 {
                expected.append(PartitionFixture.monthPartition(table, monthsFromNow: month) + "=0")
            }
            #expect(Set(layout.filter { $0.hasPrefix(table + "_") }) == Set(expected), "\(layout)")
        }
        await fixture.finish()
    }

    static func columns(_ table: String, _ conn: PostgresConnection) async throws -> [String] {
        try await conn.query("""
            SELECT column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') || ' ' ||
                   is_identity || ' ' || coalesce(identity_generation, '')
            FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position
            """, [table]).map { try $0.decode(String.self, at: 0) }
    }
}
