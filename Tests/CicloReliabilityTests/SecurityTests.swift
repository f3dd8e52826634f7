import CicloChannels
import CicloTestSupport
import Foundation
import PropertyBased
import Testing

extension ReliabilityTests {
    /// Attacks: SQL injection in every text input, forged tracking tokens, unsubscribe links edited to reach another
    /// customer, and oversized bodies. The reporter's own tests cover a forged token, a tampered redirect and each
    /// refused webhook once; these go wider (every input, every edit of a token) and check the database afterwards.
    @Suite("security")
    struct Security {
        @Test("SQL injection in imports, segments, campaign files, command arguments and HTTP bodies changes nothing")
        func injection() async throws {
            var tried = 0
            var corrupted = 0
            var findings: [String] = []
            func check(_ ok: Bool, _ what: @autoclosure () -> String) {
                tried += 1
                if !ok {
                    corrupted += 1
                    findings.append(what())
                }
            }
            try await AttackFixture.with { f in
                let tables = try await f.tables()
                let reporter = try await ReporterProcess.start(url: f.db.url)
                defer { reporter.run.stop() }
                let injections = Hostile.injections

                // Segment values: no customer has these values, so every segment counts 0 or is refused clearly.
                for (n, value) in injections.enumerated() {
                    let quoted = String(
                        decoding: try JSONSerialization.data(
                            withJSONObject: value, options: .fragmentsAllowed), as: UTF8.self)
                    for rule in [
                        #"{"stage": \#(quoted)}"#, #"{"attribute": {"tier": \#(quoted)}}"#,
                        #"{"attribute": {"tags": {"contains": [\#(quoted)]}}}"#, #"{"product": {"any": [\#(quoted)]}}"#,
                        #"{"events": {"kind": \#(quoted), "where": {"amount": {"eq": \#(quoted)}}}}"#,
                        #"{"any": [{"persona": \#(quoted)}, {"locale": \#(quoted)}, {"timezone": \#(quoted)}]}"#,
                    ] {
                        let path = try f.file("inj.yaml", #"{"name": "inj-\#(n)", "rule": \#(rule)}"#)
                        let run = try await Finished.run(["segment", "count", path], url: f.db.url)
                        check(
                            !run.crashed && (run.stdout.contains(": 0 customers") || run.status == 65),
                            "segment \(rule): status \(run.status) \(run.stdout.prefix(200)) \(run.stderr.prefix(200))")
                    }
                    // As a segment's name.
                    let named = try f.file("name.yaml", #"{"name": \#(quoted), "rule": {"stage": "Active"}}"#)
                    let apply = try await Finished.run(["segment", "apply", named], url: f.db.url)
                    if apply.status == 0 {
                        let stored = try await f.conn.query(
                            "SELECT count(*)::int8 FROM segments WHERE name = $1", [value]
                        )
                        .scalar(Int.self)
                        check(stored == 1, "segment named \(value) applied but not stored as written")
                    } else {
                        check(
                            !apply.crashed && apply.status == 65, "segment name \(value): \(apply.stderr.prefix(200))")
                    }
                }

                // Import fields: every text column of a customer, and an event's customer and kind.
                var csv = "external_id,email,stage,persona,attributes,attr.tier,consent.email\n"
                var jsonl = ""
                var events = ""
                for (n, value) in injections.enumerated() {
                    let cell = "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                    let json =
                        #"{"note": \#(String(decoding: try JSONSerialization.data(withJSONObject: value, options: .fragmentsAllowed), as: UTF8.self))}"#
                    csv +=
                        "inj-csv-\(n),\(cell),\(cell),\(cell),\"\(json.replacingOccurrences(of: "\"", with: "\"\""))\",\(cell),true\n"
                    let object: [String: Any] = [
                        "external_id": value, "stage": value, "persona": value, "attributes": ["tier": value],
                    ]
                    jsonl += String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self) + "\n"
                    let event: [String: Any] = [
                        "customer": "base-1", "kind": value, "time": "2026-03-01T09:30:00Z",
                        "id": value,
                    ]
                    events += String(decoding: try JSONSerialization.data(withJSONObject: event), as: UTF8.self) + "\n"
                    let stranger: [String: Any] = ["customer": value, "kind": "x", "time": "2026-03-01T09:30:00Z"]
                    events +=
                        String(decoding: try JSONSerialization.data(withJSONObject: stranger), as: UTF8.self) + "\n"
                }
                for (command, name, text) in [
                    (["customers", "import"], "inj.csv", csv),
                    (["customers", "import"], "inj.jsonl", jsonl),
                    (["events", "import"], "inj-events.jsonl", events),
                ] {
                    let run = try await Finished.run(command + [try f.file(name, text), "--quiet"], url: f.db.url)
                    check(
                        !run.crashed && [0, 65].contains(run.status), "\(name): \(run.status) \(run.stderr.prefix(300))"
                    )
                }
                for (n, value) in injections.enumerated() {
                    // The CSV row is stored with every field as written: nothing in it is a reason to reject it
                    // (no NUL, a unique external id), so a missing row is a finding, not a pass.
                    let row = try #require(
                        try await f.conn.query(
                            """
                            SELECT email, stage, persona, attributes->>'tier', attributes->>'note' FROM customers
                            WHERE external_id = $1
                            """, ["inj-csv-\(n)"]
                        ).first, "CSV row \(n) was not stored")
                    let email: String? = try row.decode(at: 0)
                    let stage: String? = try row.decode(at: 1)
                    let persona: String? = try row.decode(at: 2)
                    let tier: String? = try row.decode(at: 3)
                    let note: String? = try row.decode(at: 4)
                    check(
                        [email, stage, persona, tier, note].allSatisfy { $0 == value },
                        "CSV row \(n) stored changed: \([email, stage, persona, tier, note])")
                    // JSON Lines: the injection as the external id itself.
                    let stored = try #require(
                        try await f.conn.query(
                            "SELECT stage, attributes->>'tier' FROM customers WHERE external_id = $1", [value]
                        ).first, "JSON Lines row \(value) was not stored")
                    let storedStage: String? = try stored.decode(at: 0)
                    let storedTier: String? = try stored.decode(at: 1)
                    check(
                        storedStage == value && storedTier == value,
                        "JSON Lines row \(value) stored changed: \([storedStage, storedTier])")
                    // The event's kind is text like any other: its one event (on base-1, with the id `value`) is
                    // stored exactly once.
                    let kinds = try await f.conn.query("SELECT count(*)::int8 FROM events WHERE kind = $1", [value])
                        .scalar(Int.self)
                    check(kinds == 1, "event kind \(value) stored \(kinds) times")
                }

                // Campaign files: text fields stored as written, or the file refused.
                for (n, value) in injections.enumerated() {
                    let object: [String: Any] = [
                        "key": "inj-\(n)", "name": value, "kind": "adhoc", "channel": "webhook", "status": "draft",
                        "segment": ["stage": value], "variables": ["offer_code": value],
                        "offer_family": value,
                        "variants": [["name": "A", "templates": ["en": ["body": "x \(value) {{offer_code}}"]]]],
                    ]
                    let path = try f.file(
                        "inj-campaign.json",
                        String(
                            decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
                    let run = try await Finished.run(["campaign", "apply", path], url: f.db.url)
                    if run.status == 0 {
                        let row = try await f.conn.query(
                            "SELECT name, offer_family FROM campaigns WHERE key = $1", ["inj-\(n)"]
                        ).single()
                        let name: String = try row.decode(at: 0)
                        let family: String? = try row.decode(at: 1)
                        check(
                            name == value && family == value,
                            "campaign inj-\(n) stored changed: \(name), \(family ?? "nil")")
                    } else {
                        check(
                            !run.crashed && BadInput.isClear(run, file: path),
                            "campaign \(value): \(run.stderr.prefix(300))")
                    }
                    // As command arguments naming a campaign.
                    for arguments in [
                        ["report", "--campaign", value], ["campaign", "pause", value],
                        ["retry", "--campaign", value, "--dry-run"],
                    ] {
                        let run = try await Finished.run(arguments, url: f.db.url)
                        check(
                            !run.crashed && (run.status != 0 || arguments[0] == "retry"),
                            "\(arguments): status \(run.status) \(run.stdout.prefix(200))")
                        check(!run.crashed, "\(arguments) crashed")
                    }
                }

                // HTTP: event ingestion, provider webhooks and the dashboard's names.
                for value in injections {
                    // The imports above made customers of these very ids; "nobody" keeps the injection unknown.
                    let quoted = String(
                        decoding: try JSONSerialization.data(
                            withJSONObject: "nobody" + value, options: .fragmentsAllowed), as: UTF8.self)
                    let before = try await f.counts()
                    let stranger = try await reporter.send(
                        "POST", "/events", headers: ["Authorization": "Bearer \(reporter.eventsToken)"],
                        body: Data(#"{"customer": \#(quoted), "kind": "x", "time": "2026-03-01T09:30:00Z"}"#.utf8))
                    check(
                        stranger.status == 400 && stranger.text.contains("unknown"),
                        "event for customer \(value): \(stranger.status) \(stranger.text.prefix(200))")
                    let hook = Data(
                        #"{"id": \#(quoted), "type": "bounce_hard", "idempotency_key": \#(quoted), "message_id": \#(quoted), "occurred_at": "2026-03-01T09:30:00Z"}"#
                            .utf8)
                    let webhook = try await reporter.send(
                        "POST", "/webhooks/esp", headers: reporter.signed(hook), body: hook)
                    check(
                        webhook.status == 404, "webhook naming \(value): \(webhook.status) \(webhook.text.prefix(200))")
                    check(AttackFixture.changes(before, try await f.counts()).isEmpty, "HTTP \(value) stored something")
                    for path in [
                        "/campaigns/\(ReporterProcess.segment(value))", "/stages/\(ReporterProcess.segment(value))",
                        "/?from=\(ReporterProcess.segment(value))",
                    ] {
                        let reply = try await reporter.send("GET", path)
                        check([400, 404].contains(reply.status), "GET \(path): \(reply.status)")
                    }
                }

                let tablesAfter = try await f.tables()
                check(tablesAfter == tables, "the tables changed: \(tablesAfter)")
                check(reporter.run.process.isRunning, "the reporter died: \(reporter.run.stderr.suffix(500))")
            }
            for finding in findings { Issue.record("injection: \(finding)") }
            try Reliability.record(
                .init(
                    suite: "security injection", load: "imports, segments, campaigns, arguments, HTTP", faults: 0,
                    inputs: tried, lost: 0, corrupted: corrupted,
                    notes: findings.prefix(5).map { String($0.prefix(300)) }))
        }
    }
}
