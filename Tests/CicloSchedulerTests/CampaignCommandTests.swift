import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite("ciclo campaign, as a real process")
struct CampaignCommandTests {
    func run(_ arguments: [String], _ db: MigrationDatabase) async throws -> CicloRun {
        let run = try CicloRun.start(["campaign"] + arguments, url: db.url)
        let status = await run.wait(timeout: .seconds(60))
        if status == nil { run.stop() }
        return run
    }

    @Test("apply the example files, again (a no-op), then list, show, pause and resume; bad input exits 65 or 66")
    func lifecycle() async throws {
        let db = try await MigrationDatabase.migrated()
        let examples = ["winback-recurring.yaml", "deposit-trigger.yaml"].map {
            StoreFiles.examples.appendingPathComponent($0).path
        }
        let dry = try await run(["apply", "--dry-run"] + examples, db)
        #expect(dry.process.terminationStatus == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains(
            "would create winback-cycle (draft): templates A/en v1, A/it v1, A/pt v1, B/en v1, B/it v1, B/pt v1; next run "),
            "\(dry.stdout)")
        let conn = try await db.connect()
        #expect(try await conn.query("SELECT count(*) FROM campaigns").scalar(Int.self) == 0)

        let first = try await run(["apply"] + examples, db)
        #expect(first.process.terminationStatus == 0, "\(first.stderr)")
        #expect(first.stdout.contains(
            "created winback-cycle (draft): templates A/en v1, A/it v1, A/pt v1, B/en v1, B/it v1, B/pt v1; next run "))
        #expect(first.stdout.contains("created deposit-thanks (draft): templates thanks/en v1, thanks/it v1, thanks/pt v1\n"),
                "\(first.stdout)")
        let second = try await run(["apply"] + examples, db)
        #expect(second.process.terminationStatus == 0, "\(second.stderr)")
        #expect(second.stdout == examples.enumerated().map { index, path in
            "unchanged \(["winback-cycle", "deposit-thanks"][index]) (draft): \(path) is already applied\n"
        }.joined())

        let list = try await run(["list"], db)
        #expect(list.stdout.hasPrefix("KEY"))
        #expect(list.stdout.contains("deposit-thanks  trigger"))
        let show = try await run(["show", "winback-cycle"], db)
        #expect(show.process.terminationStatus == 0, "\(show.stderr)")
        #expect(show.stdout.contains("recurring: cron \"0 9 * * *\" in Europe/Lisbon, cooldown 21 days"))
        #expect(show.stdout.contains("decisions: queued 0, held out 0, excluded 0"))

        let pauseDraft = try await run(["pause", "deposit-thanks"], db)
        #expect(pauseDraft.process.terminationStatus == 65)
        #expect(pauseDraft.stderr.contains("Campaign deposit-thanks is a draft, which does not run"))
        let resume = try await run(["resume", "deposit-thanks"], db)
        #expect(resume.stdout == "campaign deposit-thanks is now active\n", "\(resume.stderr)")
        let activeOnly = try await run(["list", "--status", "active"], db)
        #expect(activeOnly.stdout.contains("deposit-thanks") && !activeOnly.stdout.contains("winback-cycle"))
        let missing = try await run(["archive", "no-such-campaign"], db)
        #expect(missing.process.terminationStatus == 66)

        // A bad file: exit 65, the problem named with file and line, nothing written.
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).yaml")
        let text = try String(contentsOfFile: examples[1], encoding: .utf8)
            .replacingOccurrences(of: "window: 2h", with: "window: 2h\n  colour: red")
        try Data(text.utf8).write(to: bad)
        defer { try? FileManager.default.removeItem(at: bad) }
        let refused = try await run(["apply", examples[0], bad.path], db)
        #expect(refused.process.terminationStatus == 65)
        #expect(refused.stderr.contains("\(bad.path):17: trigger: unknown field \"colour\""), "\(refused.stderr)")
        #expect(try await conn.query("SELECT count(*) FROM message_templates").scalar(Int.self) == 9)
        let noFile = try await run(["apply", "/nonexistent/campaign.yaml"], db)
        #expect(noFile.process.terminationStatus == 66)
        #expect(noFile.stderr.contains("Cannot read /nonexistent/campaign.yaml."))
        await conn.close()
        await db.drop()
    }
}
