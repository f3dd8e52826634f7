import CicloCampaigns
import CicloScheduler
import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite("ciclo config apply and show as real processes")
struct ConfigCommandTests {
    func run(_ arguments: [String], _ db: MigrationDatabase) async throws -> CicloRun {
        let run = try CicloRun.start(arguments, url: db.url)
        let status = await run.wait(timeout: .seconds(60))
        if status == nil { run.stop() }
        return run
    }

    static var examplePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/ciclo.yaml").path
    }

    @Test("config apply examples/ciclo.yaml stores it; config show prints it back in the file's format")
    func applyExample() async throws {
        try await withMigratedDatabase { db, conn in
            let applied = try await run(["config", "apply", Self.examplePath], db)
            #expect(applied.process.terminationStatus == 0, "stderr: \(applied.stderr)")
            #expect(applied.stdout.contains(
                "10 stages, 11 transition rules, 6 scored event kinds, 6 attributes, 3 channel policies, global holdout on, "
                    + "3 provider limits"), "\(applied.stdout)")
            let expected = sortedPolicy(try exampleConfiguration())
            #expect(try await LifecycleStore().load(on: conn) == expected)

            let shown = try await run(["config", "show"], db)
            #expect(shown.process.terminationStatus == 0, "stderr: \(shown.stderr)")
            #expect(try LifecycleConfiguration.parse(shown.stdout, file: "shown.yaml") == expected)
        }
    }

    @Test("a bad file exits 65 naming file, line and problem, and applies nothing; a missing file exits 66")
    func badFiles() async throws {
        try await withMigratedDatabase { db, conn in
            let before = try await LifecycleStore().load(on: conn)
            let bad = FileManager.default.temporaryDirectory.appendingPathComponent("ciclo-bad-\(UUID().uuidString).yaml")
            defer { try? FileManager.default.removeItem(at: bad) }
            var text = try String(contentsOfFile: Self.examplePath, encoding: .utf8)
            text = text.replacingOccurrences(of: "quiet_hours: {start: \"22:00\"", with: "quiet_hours: {start: \"25:00\"")
            try Data(text.utf8).write(to: bad)
            let line = text.components(separatedBy: "\n").firstIndex { $0.contains("25:00") }! + 1

            let rejected = try await run(["config", "apply", bad.path], db)
            #expect(rejected.process.terminationStatus == 65)
            #expect(rejected.stderr.contains(
                "ciclo: error: \(bad.path):\(line): contact_policy.email.quiet_hours.start: \"25:00\" is not a time of day"))
            #expect(try await LifecycleStore().load(on: conn) == before)

            let missing = try await run(["config", "apply", "/nonexistent/ciclo.yaml"], db)
            #expect(missing.process.terminationStatus == 66)
            #expect(missing.stderr.contains("Cannot read /nonexistent/ciclo.yaml"))
        }
    }

    @Test("dropping a stage customers are in exits 65 with the stage named")
    func refusedStage() async throws {
        try await withMigratedDatabase { db, conn in
            try await conn.query("INSERT INTO customers (external_id, stage) VALUES ('x', 'expand')")
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("ciclo-b2c-\(UUID().uuidString).yaml")
            defer { try? FileManager.default.removeItem(at: file) }
            try Data("""
                stages:
                  b2c:
                    - {key: new, objective: {kpi: activation_rate, target: 0.6}}
                """.utf8).write(to: file)
            let refused = try await run(["config", "apply", file.path], db)
            #expect(refused.process.terminationStatus == 65)
            #expect(refused.stderr.contains("drops stage \"expand\" but 1 customer is in it"), "stderr: \(refused.stderr)")
            #expect(try await LifecycleStore().load(on: conn).stages.count == 10)
        }
    }
}
