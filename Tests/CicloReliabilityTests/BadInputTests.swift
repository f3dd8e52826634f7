import CicloCampaigns
import CicloChannels
import CicloTestSupport
import Foundation
import PropertyBased
import Testing

extension ReliabilityTests {
    /// Fuzzing with swift-property-based over the segment language, templates, campaign files, CSV and JSON Lines
    /// imports: every refused input gets a clear error (one naming the file, or `ciclo: error: ...`), nothing
    /// crashes, and nothing is stored from a refused input. CICLO_FUZZ_COUNT (100) inputs per property run through a
    /// `ciclo` process; the pure parsers get twenty times as many in-process.
    @Suite("bad input")
    struct BadInput {
        static func count() throws -> Int { try Reliability.setting("CICLO_FUZZ_COUNT", 100) }

        /// A refused input's error is clear: it names the file it came from, or is ciclo's one-sentence error.
        static func isClear(_ run: Finished, file: String) -> Bool {
            let name = URL(fileURLWithPath: file).lastPathComponent
            let first = run.stderr.split(separator: "\n").first.map(String.init) ?? ""
            return !first.isEmpty && (first.contains(name) || first.hasPrefix("ciclo: error: "))
        }

        @Test("segment language: parsed in-process and applied by `ciclo segment apply`; what is applied runs")
        func segments() async throws {
            let count = try Self.count()
            var tried = 0
            var corrupted = 0
            let catalogue = AttributeCatalogue(
                ["tier": .text, "score": .number, "vip": .boolean, "joined": .date, "tags": .list])
            // In-process: the parser and the SQL builder must never trap, and every error names the file.
            await propertyCheck(
                count: count * 20, input: Gen<Bool>.bool, FuzzInputs.segment,
                Hostile.mutation(
                    of: #"{"name": "s", "rule": {"all": [{"stage": "Active"}]}}"#,
                    words: FuzzInputs.words)
            ) { mutate, json, mutated in
                tried += 1
                let text = mutate ? mutated : json
                do {
                    let file = try SegmentFile.parse(text, file: "fuzz.yaml", catalogue: catalogue)
                    var builder = SQLBuilder()
                    _ = file.segment.sql(customer: "c", now: "now()", into: &builder)
                } catch {
                    #expect("\(error)".hasPrefix("fuzz.yaml"), "unclear error: \(error)")
                }
            }
            try await AttackFixture.with { f in
                await propertyCheck(count: count, input: FuzzInputs.segment) { text in
                    do {
                        tried += 1
                        let path = try f.file("segment.yaml", text)
                        let before = try await f.counts()
                        let apply = try await Finished.run(["segment", "apply", path], url: f.db.url)
                        #expect(!apply.crashed, "segment apply crashed on \(text): \(apply.stderr.suffix(500))")
                        if apply.status == 0 {
                            // Accepted: it must also run, against real rows. A name the generator drew before (or
                            // the shrinker tries again) with the same rule is "unchanged".
                            let name = try #require(apply.stdout.firstMatch(of: /segment (\S+) (?:saved|unchanged)/)).1
                            let count = try await Finished.run(["segment", "count", String(name)], url: f.db.url)
                            #expect(
                                count.status == 0 && !count.crashed,
                                "an applied segment does not run: \(text) -> \(count.stderr.suffix(500))")
                            if count.status != 0 { corrupted += 1 }
                        } else {
                            #expect(
                                apply.status == 65, "status \(apply.status) for \(text): \(apply.stderr.suffix(300))")
                            #expect(
                                Self.isClear(apply, file: path),
                                "unclear error for \(text): \(apply.stderr.prefix(300))")
                            let changed = AttackFixture.changes(before, try await f.counts())
                            #expect(changed.isEmpty, "a refused segment stored something: \(changed)")
                            if !changed.isEmpty { corrupted += 1 }
                        }
                    } catch {
                        Issue.record(error)
                    }
                }
            }
            try Reliability.record(
                .init(
                    suite: "bad input segments", load: "segment language", faults: 0, inputs: tried, lost: 0,
                    corrupted: corrupted, notes: []))
        }

        @Test("templates compile or are refused by name and line; campaign files are applied whole or not at all")
        func templatesAndCampaigns() async throws {
            let count = try Self.count()
            var tried = 0
            var corrupted = 0
            await propertyCheck(
                count: count * 20, input: FuzzInputs.templateSource, FuzzInputs.templateSource,
                Hostile.piece(FuzzInputs.words)
            ) { html, text, value in
                tried += 1
                do {
                    let template = try MessageTemplate(
                        name: "fuzz", parts: ["html": (.html, html), "subject": (.text, text)],
                        variables: [
                            .init("customer.first_name", default: "x"), .init("offer_code"),
                            .init("send.unsubscribe_url"),
                        ])
                    _ = template.render(["offer_code": value, "customer.first_name": value])
                } catch {
                    #expect("\(error)".contains("fuzz"), "unclear template error: \(error)")
                }
            }
            try await AttackFixture.with { f in
                await propertyCheck(count: count, input: FuzzInputs.campaign) { json in
                    do {
                        tried += 1
                        let path = try f.file("campaign.json", json)
                        let before = try await f.counts()
                        let apply = try await Finished.run(["campaign", "apply", path], url: f.db.url)
                        #expect(!apply.crashed, "campaign apply crashed on \(json): \(apply.stderr.suffix(500))")
                        let after = try await f.counts()
                        if apply.status == 0 {
                            // Stored as written: the name read back is the name given.
                            let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
                            let key = object?["key"] as? String ?? ""
                            let stored = try await f.conn.query("SELECT name FROM campaigns WHERE key = $1", [key])
                                .first.map { try $0.decode(String.self, at: 0) }
                            #expect(stored == object?["name"] as? String, "stored \(stored ?? "nothing") for \(json)")
                            if stored != object?["name"] as? String { corrupted += 1 }
                        } else {
                            #expect(
                                Self.isClear(apply, file: path),
                                "unclear error for \(json): \(apply.stderr.prefix(300))")
                            let changed = AttackFixture.changes(before, after)
                            #expect(changed.isEmpty, "a refused campaign stored something: \(changed)")
                            if !changed.isEmpty { corrupted += 1 }
                        }
                    } catch {
                        Issue.record(error)
                    }
                }
            }
            try Reliability.record(
                .init(
                    suite: "bad input templates", load: "templates and campaign files", faults: 0, inputs: tried,
                    lost: 0,
                    corrupted: corrupted, notes: []))
        }

        static let customerCSV = """
            external_id,email,phone,locale,timezone,stage,persona,attributes,attr.score,attr.tags,consent.email,last_seen_at
            fz-1,ana@example.com,+351912345678,pt-BR,Europe/Lisbon,Active,b2c-loyal,"{""tier"": ""gold""}",12.5,a;b,true,2026-03-01T09:30:00Z
            base-1,,,,,,,,,,false,

            """
        static let customerJSONL = """
            {"external_id": "fz-1", "email": "ana@example.com", "locale": "pt", "attributes": {"tier": "gold", "score": 3}, "consent": {"email": true}, "product_preferences": ["shoes"]}
            {"external_id": "base-2", "stage": "Active", "last_seen_at": "2026-03-01T09:30:00Z"}

            """
        static let eventJSONL = """
            {"customer": "base-1", "kind": "purchase", "payload": {"amount": 49.9, "sku": "boots"}, "time": "2026-03-01T09:30:00Z", "id": "ord-1"}
            {"customer": "base-2", "kind": "deposit", "payload": {"amount": "20"}, "time": "2026-03-01T10:00:00+01:00"}

            """

        @Test("CSV and JSON Lines imports: each refused row named with its line, the counts equal what was stored")
        func imports() async throws {
            let count = try Self.count()
            var tried = 0
            var corrupted = 0
            let cases: [(command: [String], name: String, valid: String, table: String)] = [
                (["customers", "import"], "customers.csv", Self.customerCSV, "customers"),
                (["customers", "import"], "customers.jsonl", Self.customerJSONL, "customers"),
                (["events", "import"], "events.jsonl", Self.eventJSONL, "events"),
            ]
            try await AttackFixture.with { f in
                for (command, name, valid, table) in cases {
                    await propertyCheck(count: count, input: Hostile.mutation(of: valid, words: FuzzInputs.words)) {
                        text in
                        do {
                            tried += 1
                            // A fresh id each time, so a mutated row that is accepted inserts rather than updates.
                            let unique = "fz-\(UUID().uuidString.prefix(8))"
                            let path = try f.file(name, text.replacingOccurrences(of: "fz-1", with: unique))
                            let before = try await f.counts()
                            let run = try await Finished.run(command + [path, "--quiet"], url: f.db.url)
                            let after = try await f.counts()
                            #expect(
                                !run.crashed, "\(command) crashed on \(text.prefix(500)): \(run.stderr.suffix(500))")
                            #expect([0, 65].contains(run.status), "status \(run.status): \(run.stderr.prefix(300))")
                            let stored = (after[table] ?? 0) - (before[table] ?? 0)
                            if let summary = ImportSummary(run.stdout) {
                                // Every refused row is named on stderr with its line; only accepted rows are stored.
                                #expect(
                                    stored == summary.inserted,
                                    "stored \(stored), said \(run.stdout) for \(text.prefix(300))")
                                if stored != summary.inserted { corrupted += 1 }
                                if summary.rejected > 0 {
                                    #expect(
                                        run.status == 65 && run.stderr.contains(" line "),
                                        "rejected rows not named: \(run.stderr.prefix(300))")
                                }
                            } else {
                                // Refused whole: a clear error and nothing stored.
                                #expect(Self.isClear(run, file: path), "unclear error: \(run.stderr.prefix(300))")
                                let changed = AttackFixture.changes(before, after)
                                #expect(changed.isEmpty, "a refused file stored something: \(changed)")
                                if !changed.isEmpty { corrupted += 1 }
                            }
                        } catch {
                            Issue.record(error)
                        }
                    }
                }
            }
            try Reliability.record(
                .init(
                    suite: "bad input imports", load: "CSV and JSON Lines imports", faults: 0, inputs: tried, lost: 0,
                    corrupted: corrupted, notes: []))
        }
    }
}
