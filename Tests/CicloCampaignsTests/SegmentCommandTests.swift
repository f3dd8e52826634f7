import CicloTestSupport
import Foundation
import Postgres
import Testing

/// `ciclo segment apply` and `ciclo segment count` as a real process.
@Suite("ciclo segment apply and count")
struct SegmentCommandTests {
    func run(_ arguments: [String], _ db: MigrationDatabase) async throws -> CicloRun {
        let run = try CicloRun.start(arguments, url: db.url)
        _ = await run.wait(timeout: .seconds(30))
        return run
    }

    func write(_ text: String, name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-\(name)").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("apply saves a segment file; count prints its size and first customers, by name or from the file")
    func applyAndCount() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        try await conn.query("INSERT INTO customer_attributes (name, type) VALUES ('tier', 'text')")
        // 30 customers: every third is gold and Active; every customer's last deposit was 2 days before `now`.
        try await conn.query(
            """
            INSERT INTO customers (external_id, stage, persona, locale, attributes)
            SELECT 'cli-' || lpad(g::text, 2, '0'), CASE WHEN g % 3 = 0 THEN 'Active' ELSE 'New' END, 'b2c-casual',
                   'pt-BR', CASE WHEN g % 3 = 0 THEN '{"tier": "gold"}' ELSE '{"tier": "silver"}' END::jsonb
            FROM generate_series(1, 30) g
            """)
        try await conn.query(
            """
            INSERT INTO events (customer_id, kind, occurred_at)
            SELECT id, 'deposit', '2026-03-01T12:00:00Z'::timestamptz - interval '2 days' FROM customers
            """)
        let file = try write(
            """
            name: gold-depositors
            rule:
              all:
                - stage: Active
                - attribute: {tier: gold}
                - events: {kind: deposit, within_days: 7}
            """, name: "gold.yaml")

        let apply = try await run(["segment", "apply", file], db)
        #expect(apply.process.terminationStatus == 0, "stderr: \(apply.stderr)")
        #expect(apply.stdout.contains("segment gold-depositors saved"))
        let stored: Int64 = try await conn.query("SELECT count(*) FROM segments WHERE name = 'gold-depositors'")
            .first!.decode(at: 0)
        #expect(stored == 1)

        let count = try await run(
            ["segment", "count", "gold-depositors", "--now", "2026-03-01T12:00:00Z", "--sample", "3"], db)
        #expect(count.process.terminationStatus == 0, "stderr: \(count.stderr)")
        let lines = count.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "segment gold-depositors: 10 customers as of 2026-03-01T12:00:00Z", "\(count.stdout)")
        #expect(lines.dropFirst().first?.hasPrefix("EXTERNAL ID") == true)
        #expect(
            lines.dropFirst(2).map { $0.split(separator: " ").first.map(String.init) } == [
                "cli-03", "cli-06", "cli-09",
            ])
        #expect(
            lines.dropFirst(2).allSatisfy { $0.contains("Active") && $0.contains("b2c-casual") && $0.contains("pt-BR") }
        )

        // A week later the deposits fall out of the window; the file works as well as the name.
        let later = try await run(["segment", "count", file, "--now", "2026-03-08T12:00:00Z"], db)
        #expect(later.process.terminationStatus == 0, "stderr: \(later.stderr)")
        #expect(later.stdout == "segment gold-depositors: 0 customers as of 2026-03-08T12:00:00Z\n")
        await conn.close()
        await db.drop()
    }

    @Test("a bad segment file exits 65 with file:line: path: problem; an unknown name or file exits 66")
    func badInput() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        try await conn.query("INSERT INTO customer_attributes (name, type) VALUES ('tier', 'text')")
        let bad = try write(
            "name: typo\nrule:\n  all:\n    - stage: Active\n    - attribute: {tierr: gold}\n", name: "bad.yaml")
        let apply = try await run(["segment", "apply", bad], db)
        #expect(apply.process.terminationStatus == 65)
        #expect(
            apply.stderr.contains(
                "\(bad):5: rule.all[1].attribute.tierr: unknown attribute \"tierr\"; declared attributes: tier"),
            "stderr: \(apply.stderr)")
        let operatorFile = try write("name: op\nrule: {stage: {like: Act}}\n", name: "op.yaml")
        let count = try await run(["segment", "count", operatorFile], db)
        #expect(count.process.terminationStatus == 65)
        #expect(count.stderr.contains("unknown operator \"like\"; expected one of: eq, ne, in, not_in, exists"))
        let stored: Int64 = try await conn.query("SELECT count(*) FROM segments").first!.decode(at: 0)
        #expect(stored == 0, "nothing saved from bad files")

        let unknown = try await run(["segment", "count", "no-such-segment"], db)
        #expect(unknown.process.terminationStatus == 66)
        #expect(unknown.stderr.contains("no-such-segment is neither a file nor a saved segment"))
        let badNow = try await run(["segment", "count", "x", "--now", "yesterday"], db)
        #expect(badNow.process.terminationStatus == 64)
        await conn.close()
        await db.drop()
    }
}
