import CicloMaintenance
import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite("ciclo maintenance: partitions ahead, retention behind")
struct PartitionMaintenanceTests {
    static let tables = ["deliveries", "events", "responses"]

    @Test("creates the months ahead, moving the DEFAULT partition's rows for them; a second run does nothing")
    func createsAheadAndMovesDefaultRows() async throws {
        let fixture = try await PartitionFixture.fresh()
        // A session zone other than UTC: months are UTC months all the same, and the session keeps its zone.
        try await fixture.conn.query("SET TimeZone = 'Asia/Kolkata'")
        try await fixture.conn.query("INSERT INTO customers (external_id) VALUES ('c1')")
        // 160 days ahead has no partition yet (the migration makes 3 months ahead): the row lands in DEFAULT.
        try await fixture.insertRows(at: "now() + interval '160 days'", tag: "future")
        var ids: [String: Int] = [:]
        for table in Self.tables {
            #expect(try await fixture.partitions(of: table)["future"] == "\(table)_default")
            ids[table] = try await fixture.conn.query("SELECT id FROM \(table)").scalar(Int.self)
        }

        let report = try await PartitionMaintenance(options: .init(monthsAhead: 7)).run(on: fixture.conn)

        let created = report.steps.compactMap { step -> String? in
            if case .created(_, let partition, _, _, _) = step { return partition } else { return nil }
        }
        let expected = Self.tables.flatMap { table in
            (4...7).map { PartitionFixture.monthPartition(table, monthsFromNow: $0) }
        }
        #expect(Set(created) == Set(expected) && created.count == 12, "\(report.lines)")
        let moved = report.steps.reduce(0) { sum, step in
            if case .created(_, _, _, _, let rows) = step { return sum + rows } else { return sum }
        }
        #expect(moved == 3, "one row per table: \(report.lines)")
        #expect(report.lines.first == "retention: not set, nothing is dropped (set it with --retention-days N --store-retention)")
        for table in Self.tables {
            #expect(try await fixture.partitions(of: table)["future"]
                    == PartitionFixture.monthPartition(table, days: 160), "\(table): moved to its month")
            #expect(try await fixture.conn.query("SELECT id FROM \(table)").scalar(Int.self) == ids[table],
                    "\(table): the moved row keeps its id")
        }

        #expect(try await fixture.conn.query("SHOW TimeZone").scalar(String.self) == "Asia/Kolkata")
        let bounds = try await fixture.conn.query(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = $1",
            [PartitionFixture.monthPartition("events", monthsFromNow: 7)]).scalar(String.self)
        #expect(bounds.hasPrefix("FOR VALUES FROM ('") && bounds.contains(" 05:30:00+05:30') TO ('"), "\(bounds)")

        let again = try await PartitionMaintenance(options: .init(monthsAhead: 7)).run(on: fixture.conn)
        #expect(again.steps.isEmpty)
        #expect(again.lines.last == "nothing to do")
        await fixture.finish()
    }

    @Test("after months without maintenance, the missing months since the newest partition are created too")
    func fillsTheGapSinceTheNewestPartition() async throws {
        let fixture = try await PartitionFixture.fresh()
        try await fixture.conn.query("INSERT INTO customers (external_id) VALUES ('c1')")
        // As if maintenance last ran three months ago: events' newest month is three months back, nothing after.
        for month in 0...3 {
            try await fixture.conn.query("DROP TABLE \(PartitionFixture.monthPartition("events", monthsFromNow: month))")
        }
        try await fixture.conn.query("""
            CREATE TABLE \(PartitionFixture.monthPartition("events", monthsFromNow: -3)) PARTITION OF events
            FOR VALUES FROM (date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '3 months')
                       TO (date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '2 months')
            """)
        try await fixture.insertRows(at: "now() - interval '40 days'", tag: "gap")
        try await fixture.insertRows(at: "now()", tag: "today")
        #expect(try await fixture.partitions(of: "events") == ["gap": "events_default", "today": "events_default"])

        let events = PartitionedTable(name: "events", key: "occurred_at")
        let report = try await PartitionMaintenance(options: .init(monthsAhead: 1), tables: [events]).run(on: fixture.conn)

        let created = report.steps.compactMap { step -> String? in
            if case .created(_, let partition, _, _, _) = step { return partition } else { return nil }
        }
        #expect(created == (-2...1).map { PartitionFixture.monthPartition("events", monthsFromNow: $0) }, "\(report.lines)")
        #expect(try await fixture.partitions(of: "events") == [
            "gap": PartitionFixture.monthPartition("events", days: -40),
            "today": PartitionFixture.monthPartition("events", monthsFromNow: 0),
        ])
        await fixture.finish()
    }

    @Test("drops whole months older than the retention, keeps younger ones, the DEFAULT partition and other tables")
    func dropsExpiredMonths() async throws {
        let fixture = try await PartitionFixture.migratedWithRows()
        try await fixture.conn.query("INSERT INTO settings (key, value) VALUES ('unrelated', '1')")
        let others = try await Self.otherTables(fixture.conn)

        let report = try await PartitionMaintenance(options: .init(monthsAhead: 3, retentionDays: 60))
            .run(on: fixture.conn)

        #expect(report.retention == .flag(days: 60))
        for table in Self.tables {
            let rows = try await fixture.partitions(of: table)
            // r0 now, r1 40 days ago: kept. r2 100 and r3 150 days ago: their months ended before the cutoff.
            #expect(Set(rows.keys) == ["r0", "r1", "r4"], "\(table): \(rows)")
            #expect(rows["r4"] == "\(table)_default", "a future row in DEFAULT is not old")
            #expect(report.steps.contains(.purgedDefault(table: table, rows: 1)), "the 2015 row: \(report.lines)")
            for days in [-100.0, -150] {
                let month = PartitionFixture.monthPartition(table, days: days)
                #expect(report.steps.contains { if case .dropped(_, month, _, _) = $0 { true } else { false } })
                #expect(try await fixture.conn.query("SELECT to_regclass($1)::text", [month]).scalar(String?.self) == nil)
            }
            let kept = PartitionFixture.monthPartition(table, days: -40)
            #expect(try await fixture.conn.query("SELECT to_regclass($1)::text", [kept]).scalar(String?.self) == kept)
        }
        #expect(try await Self.otherTables(fixture.conn) == others)
        // The report's --verify now recounts from the first whole day after the cutoff.
        let retained = "SELECT value->>'day' FROM settings WHERE key = 'raw_retained_from'"
        let day = try await fixture.conn.query(retained).scalar(String.self)
        #expect(try await fixture.conn.query(
            "SELECT (($1::timestamptz AT TIME ZONE 'UTC')::date + 1)::text", [try #require(report.cutoff)]
        ).scalar(String.self) == day)
        let again = try await PartitionMaintenance(options: .init(monthsAhead: 3, retentionDays: 60))
            .run(on: fixture.conn)
        #expect(again.steps.isEmpty, "\(again.lines)")
        // A longer retention later never moves it back.
        _ = try await PartitionMaintenance(options: .init(monthsAhead: 3, retentionDays: 400)).run(on: fixture.conn)
        #expect(try await fixture.conn.query(retained).scalar(String.self) == day)
        await fixture.finish()
    }

    @Test("a dry run reports the moves and drops and changes nothing")
    func dryRunChangesNothing() async throws {
        let fixture = try await PartitionFixture.migratedWithRows()
        let before = try await fixture.layout()
        let options = MaintenanceOptions(monthsAhead: 7, retentionDays: 60, dryRun: true)

        let report = try await PartitionMaintenance(options: options).run(on: fixture.conn)

        #expect(try await fixture.layout() == before)
        #expect(report.lines.contains { $0.hasPrefix("would create events_p") && $0.hasSuffix("would move 1 rows from events's DEFAULT partition") }, "\(report.lines)")
        #expect(report.lines.contains { $0.hasPrefix("would drop deliveries_p") })
        #expect(report.lines.contains("would delete 1 rows of responses's DEFAULT partition older than the cutoff"))
        #expect(report.lines.last?.hasPrefix("dry run, nothing changed: would create 12, drop ") == true, "\(report.lines)")
        await fixture.finish()
    }

    @Test("a database whose raw tables are not partitioned is refused by name")
    func unpartitionedRefused() async throws {
        let fixture = try await PartitionFixture.beforePartitioning()
        await #expect(throws: MaintenanceError.self) {
            try await PartitionMaintenance(options: .init()).run(on: fixture.conn)
        }
        do {
            _ = try await PartitionMaintenance(options: .init()).run(on: fixture.conn)
        } catch let error as MaintenanceError {
            #expect(error.code == .notPartitioned)
            #expect(error.description == "deliveries, responses, events are not partitioned by time; run `ciclo migrate` first")
        }
        await fixture.finish()
    }

    @Test("options out of range or contradictory are refused before anything runs")
    func badOptions() {
        let cases: [(MaintenanceOptions, String)] = [
            (.init(monthsAhead: -1), "--months-ahead must be between 0 and 60; it is -1"),
            (.init(monthsAhead: 61), "--months-ahead must be between 0 and 60; it is 61"),
            (.init(retentionDays: 0), "--retention-days must be between 1 and 36500; it is 0"),
            (.init(storeRetention: true), "--store-retention stores the value of --retention-days; give --retention-days too"),
            (.init(retentionDays: 5, storeRetention: true, dryRun: true),
             "--store-retention changes the stored setting and --dry-run changes nothing; choose one"),
        ]
        for (options, message) in cases {
            #expect(throws: MaintenanceError.self) { try options.validate() }
            do { try options.validate() } catch { #expect(error.description == message) }
        }
        #expect(throws: Never.self) { try MaintenanceOptions(monthsAhead: 0, retentionDays: 1).validate() }
    }

    /// Row counts of tables maintenance must never touch.
    static func otherTables(_ conn: PostgresConnection) async throws -> [Int] {
        try await conn.query("""
            SELECT unnest(ARRAY[(SELECT count(*) FROM customers),
                                (SELECT count(*) FROM settings WHERE key <> 'raw_retained_from'),
                                (SELECT count(*) FROM lifecycle_stages), (SELECT count(*) FROM send_keys)])
            """).map { try $0.decode(Int.self, at: 0) }
    }
}
