import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite("`ciclo maintenance` as a process")
struct MaintenanceCommandTests {
    func run(_ arguments: [String], url: String) async throws -> (status: Int32?, out: String, err: String) {
        let run = try CicloRun.start(["maintenance"] + arguments, url: url)
        let status = await run.wait(timeout: .seconds(60))
        run.stop()
        return (status, run.stdout, run.stderr)
    }

    @Test("bad flags exit 64 with a message naming the flag, and change nothing")
    func badFlags() async throws {
        let fixture = try await PartitionFixture.fresh()
        let before = try await fixture.layout()
        let cases: [([String], String)] = [
            (["--months-ahead=-1"], "--months-ahead must be between 0 and 60; it is -1"),
            (["--months-ahead", "soon"], "The value 'soon' is invalid for '--months-ahead <months-ahead>'"),
            (["--retention-days", "0"], "--retention-days must be between 1 and 36500; it is 0"),
            (["--store-retention"], "--store-retention stores the value of --retention-days; give --retention-days too"),
            (["--retention-days", "30", "--store-retention", "--dry-run"],
             "--store-retention changes the stored setting and --dry-run changes nothing; choose one"),
        ]
        for (arguments, message) in cases {
            let result = try await run(arguments, url: fixture.db.url)
            #expect(result.status == 64, "\(arguments): \(result.err)")
            #expect(result.err.contains(message), "\(arguments): \(result.err)")
        }
        #expect(try await fixture.layout() == before)
        #expect(try await fixture.conn.query("SELECT count(*) FROM settings WHERE key = 'raw_retention'").scalar(Int.self) == 0)
        await fixture.finish()
    }

    @Test("--store-retention keeps the days for later runs; a bad stored value exits 78 naming the setting")
    func storedRetention() async throws {
        let fixture = try await PartitionFixture.fresh()
        let stored = try await run(["--retention-days", "400", "--store-retention"], url: fixture.db.url)
        #expect(stored.status == 0, "\(stored.err)")
        #expect(stored.out.hasPrefix("retention: 400 days (--retention-days), cutoff "), "\(stored.out)")
        let later = try await run(["--dry-run"], url: fixture.db.url)
        #expect(later.status == 0, "\(later.err)")
        #expect(later.out.hasPrefix("retention: 400 days (stored setting), cutoff "), "\(later.out)")
        #expect(later.out.hasSuffix("nothing to do (dry run)\n"), "\(later.out)")

        try await fixture.conn.query("UPDATE settings SET value = '{\"days\": \"forever\"}' WHERE key = 'raw_retention'")
        let bad = try await run([], url: fixture.db.url)
        #expect(bad.status == 78, "\(bad.err)")
        #expect(bad.err.contains("the stored setting raw_retention is not {\"days\": N} with N from 1 to 36500"), "\(bad.err)")
        await fixture.finish()
    }

    @Test("two runs at once both succeed, and each partition is created once")
    func concurrentRuns() async throws {
        let fixture = try await PartitionFixture.fresh()
        try await fixture.conn.query("INSERT INTO customers (external_id) VALUES ('c1')")
        try await fixture.insertRows(at: "now() + interval '160 days'", tag: "future")
        let runs = try (0..<2).map { _ in try CicloRun.start(["maintenance", "--months-ahead", "9"], url: fixture.db.url) }
        var outputs: [String] = []
        for run in runs {
            let status = await run.wait(timeout: .seconds(60))
            run.stop()
            #expect(status == 0, "\(run.stderr)")
            outputs.append(run.stdout)
        }
        let created = outputs.flatMap { $0.split(separator: "\n") }.filter { $0.hasPrefix("created ") && $0.contains("_p") }
        #expect(created.count == 18, "6 months × 3 tables, once: \(outputs)")
        #expect(outputs.contains { $0.hasSuffix("nothing to do\n") }, "the second waited and found it done: \(outputs)")
        #expect(try await fixture.conn.query("SELECT count(*) FROM events").scalar(Int.self) == 1)
        for table in ["events", "deliveries", "responses"] {
            #expect(try await fixture.partitions(of: table)["future"] == PartitionFixture.monthPartition(table, days: 160))
        }
        await fixture.finish()
    }
}
