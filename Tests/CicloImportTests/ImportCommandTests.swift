import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite("ciclo customers import and ciclo events import as processes")
struct ImportCommandTests {
    func run(_ arguments: [String], _ fixture: ImportFixture) async throws -> (CicloRun, Int32?) {
        let run = try CicloRun.start(arguments, url: fixture.db.url)
        let status = await run.wait(timeout: .seconds(60))
        run.stop()
        return (run, status)
    }

    @Test(
        "exit 0 and a summary when every row goes in; 65 with the rejected rows listed when some do not; 66 for a missing file"
    )
    func customersImport() async throws {
        try await ImportFixture.with { fixture in
            let good = try fixture.file(
                "good.csv", "external_id,email,consent.email\nc1,a@example.com,true\nc2,b@example.com,\n")
            var (run, status) = try await run(["customers", "import", good], fixture)
            #expect(status == 0, "stderr: \(run.stderr)")
            #expect(run.stdout == "customers: 2 read, 2 inserted, 0 updated, 0 rejected\n")
            #expect(run.stderr.isEmpty, "no progress lines for a short file: \(run.stderr)")

            let bad = try fixture.file(
                "bad.jsonl",
                """
                {"external_id": "c1", "phone": "+351912345678"}
                {"external_id": "c3", "timezone": "Mars/Base"}
                {"external_id": "c4", "consent": {"sms": "yes"}}
                """)
            let rejects = fixture.folder.appendingPathComponent("rejects.tsv").path
            (run, status) = try await self.run(["customers", "import", bad, "--rejects", rejects], fixture)
            #expect(status == 65, "stderr: \(run.stderr)")
            #expect(run.stdout == "customers: 3 read, 0 inserted, 1 updated, 2 rejected\n")
            #expect(
                run.stderr == """
                    \(bad) line 2: timezone "Mars/Base" is not an IANA zone the server knows (e.g. Europe/Lisbon)
                    \(bad) line 3: consent.sms must be true or false, not a string

                    """)
            #expect(try String(contentsOfFile: rejects, encoding: .utf8).hasPrefix("2\ttimezone \"Mars/Base\""))
            #expect(try await fixture.customer("c1")["phone"] == "+351912345678")

            (run, status) = try await self.run(
                ["customers", "import", fixture.folder.appendingPathComponent("no.csv").path], fixture)
            #expect(status == 66)
            #expect(run.stderr.hasPrefix("ciclo: error: ") && run.stderr.contains("no.csv does not exist."))

            (run, status) = try await self.run(["customers", "import", good, "--format", "xml"], fixture)
            #expect(status == 64, "an unknown --format is a usage error: \(run.stderr)")
        }
    }

    @Test("ciclo events import stores the events and a second run stores nothing new")
    func eventsImport() async throws {
        try await ImportFixture.with { fixture in
            let customers = try fixture.file("c.csv", "external_id\nc1\n")
            _ = try await run(["customers", "import", customers], fixture)
            let events = try fixture.file(
                "e.jsonl",
                """
                {"customer": "c1", "kind": "purchase", "payload": {"amount": 5}, "time": "2026-03-01T09:30:00Z"}
                {"customer": "c1", "kind": "login", "time": "2026-03-01T09:00:00Z"}
                """)
            var (run, status) = try await run(["events", "import", events], fixture)
            #expect(status == 0, "stderr: \(run.stderr)")
            #expect(run.stdout == "events: 2 read, 2 inserted, 0 already stored, 0 rejected\n")
            (run, status) = try await self.run(["events", "import", events], fixture)
            #expect(status == 0)
            #expect(run.stdout == "events: 2 read, 0 inserted, 2 already stored, 0 rejected\n")
        }
    }
}
