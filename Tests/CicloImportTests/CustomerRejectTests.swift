import CicloImport
import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite("customer import: bad rows and unusable files")
struct CustomerRejectTests {
    @Test("every kind of bad CSV row is reported with its line and reason, and the good rows are stored")
    func badCSVRows() async throws {
        try await ImportFixture.with { fixture in
            try await fixture.conn.query("INSERT INTO customer_attributes (name, type) VALUES ('ltv', 'number')")
            let rejectsFile = fixture.folder.appendingPathComponent("rejects.tsv")
            let path = try fixture.file(
                "bad.csv",
                """
                external_id,email,timezone,locale,consent.email,last_seen_at,attributes,attr.ltv
                good1,"two
                lines@example.com",UTC,en,true,,,
                ,nobody@example.com,,,,,,
                bad-zone,,Mars/Olympus,,,,,
                bad-consent,,,,yes,,,
                bad-time,,,,,2026-02-30T10:00:00Z,,
                short,row
                bad-locale,,,english!,,,,
                bad-json,,,,,,{not json},
                bad-number,,,,,,,lots
                good2,,Asia/Tokyo,,,,"{""a"": 1}",12

                """)
            let report = try await fixture.customers(path, ImportOptions(rejectsFile: rejectsFile))
            #expect(report.summary == "customers: 10 read, 2 inserted, 0 updated, 8 rejected")
            let expected: [Int: String] = [
                4: "external_id is missing",
                5: #"timezone "Mars/Olympus" is not an IANA zone the server knows (e.g. Europe/Lisbon)"#,
                6: #"consent.email is "yes"; use true, false or leave it empty"#,
                7: #"last_seen_at "2026-02-30T10:00:00Z" is not an RFC 3339 time like 2026-03-01T09:30:00Z"#,
                8: "has 2 fields but the header has 8",
                9: #"locale "english!" is not a language tag like en, pt-BR or zh-Hant"#,
                10: "the attributes column is not valid JSON (",
                11: #"attribute "ltv" is declared number but is "lots""#,
            ]
            let got = ImportFixture.rejects(report)
            #expect(
                Set(got.keys) == Set(expected.keys), "line 2's quoted field spans two lines, so the next row is line 4")
            for (line, reason) in expected {
                #expect(got[line]?.hasPrefix(reason) == true, "line \(line): \(got[line] ?? "-")")
            }
            #expect(
                try await fixture.conn.query("SELECT string_agg(external_id, ',' ORDER BY external_id) FROM customers")
                    .scalar(String.self) == "good1,good2")
            #expect(try await fixture.customer("good1")["email"] == "two\nlines@example.com")
            #expect(try await fixture.consents("good1") == ["email=true"])

            let lines = try String(contentsOf: rejectsFile, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 8)
            #expect(lines.first == "4\texternal_id is missing")
            #expect(
                lines.map { Int($0.prefix { $0 != "\t" })! } == lines.map { Int($0.prefix { $0 != "\t" })! }.sorted())
        }
    }

    @Test("every kind of bad JSON Lines row is reported with its line and reason, and the good rows are stored")
    func badJSONRows() async throws {
        try await ImportFixture.with { fixture in
            let path = try fixture.file(
                "bad.jsonl",
                """
                {"external_id": "good1", "email": "a@example.com"}
                {"external_id": "broken",
                [1, 2]
                {"email": "no-id@example.com"}
                {"external_id": "typo", "emial": "x@example.com"}
                {"external_id": "consent", "consent": {"email": "yes"}}
                {"external_id": "channel", "consent": {"pigeon": true}}
                {"external_id": "prefs", "product_preferences": "shoes"}
                {"external_id": "attrs", "attributes": [1]}
                {"external_id": "email", "email": 5}
                {"external_id": "nul", "attributes": {"a": "x\\u0000y"}}
                {"external_id": "zone", "timezone": "Nowhere/Land"}
                {"external_id": true}
                {"external_id": "good2", "timezone": "America/New_York"}
                """)
            let report = try await fixture.customers(path)
            #expect(report.summary == "customers: 14 read, 2 inserted, 0 updated, 12 rejected")
            let expected: [Int: String] = [
                2: "is not valid JSON",
                3: "is not a JSON object",
                4: "external_id is missing",
                5: #"has an unknown field "emial""#,
                6: "consent.email must be true or false, not a string",
                7: #"consent names an unknown channel "pigeon"; use email, sms, push or webhook"#,
                8: "product_preferences must be an array of strings",
                9: "attributes must be an object, not an array",
                10: "email must be a string, not a number",
                11: "attributes contain a NUL character",
                12: #"timezone "Nowhere/Land" is not an IANA zone"#,
                13: "external_id must be a string, not a boolean",
            ]
            let got = ImportFixture.rejects(report)
            #expect(Set(got.keys) == Set(expected.keys))
            for (line, reason) in expected {
                #expect(got[line]?.hasPrefix(reason) == true, "line \(line): \(got[line] ?? "-")")
            }
            #expect(try await fixture.customer("good2")["timezone"] == "America/New_York")
            #expect(try await fixture.count("customers") == 2)
        }
    }

    @Test("the report lists the first 20 rejected rows and counts them all; the rejects file has every one")
    func manyRejects() async throws {
        try await ImportFixture.with { fixture in
            let rows = (1...30).map { "c\($0),nowhere" } + ["ok,UTC"]
            let path = try fixture.file("many.csv", "external_id,timezone\n" + rows.joined(separator: "\n"))
            let rejectsFile = fixture.folder.appendingPathComponent("all.tsv")
            let report = try await fixture.customers(path, ImportOptions(rejectsFile: rejectsFile))
            #expect(report.rejected == 30 && report.inserted == 1)
            #expect(report.firstRejects.map(\.line) == Array(2...21))
            let lines = try String(contentsOf: rejectsFile, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 30)
            #expect(
                lines.last.map(String.init) == "31\t"
                    + #"timezone "nowhere" is not an IANA zone the server knows (e.g. Europe/Lisbon)"#)
        }
    }

    func expectUnusable(
        _ fixture: ImportFixture, _ path: String, _ code: ImportError.Code, _ message: String,
        options: ImportOptions = .init()
    ) async throws {
        let error = await #expect(throws: ImportError.self) { try await fixture.customers(path, options) }
        #expect(error?.code == code)
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "-")")
        #expect(try await fixture.count("customers") == 0, "nothing of an unusable file is stored")
    }

    @Test("a file that cannot be used fails whole, says why, and stores nothing")
    func unusableFiles() async throws {
        try await ImportFixture.with { fixture in
            try await expectUnusable(
                fixture, fixture.folder.appendingPathComponent("missing.csv").path, .unreadable,
                "missing.csv does not exist")
            try await expectUnusable(fixture, fixture.folder.path, .unreadable, "is a folder")
            try await expectUnusable(
                fixture, try fixture.file("customers.txt", "external_id\nc1\n"), .unknownFormat, "--format")
            try await expectUnusable(fixture, try fixture.file("empty.csv", "\n\n"), .badFile, "needs a header row")
            try await expectUnusable(
                fixture, try fixture.file("typo.csv", "external_id,emial\nc1,x\n"), .badFile, #"unknown column "emial""#
            )
            try await expectUnusable(
                fixture, try fixture.file("noid.csv", "email\nx@example.com\n"), .badFile, "no external_id column")
            try await expectUnusable(
                fixture, try fixture.file("twice.csv", "external_id,email,EMAIL\nc1,x,y\n"), .badFile, "twice")
            // Good rows first, then bytes that are not UTF-8: the rows already streamed are rolled back with the rest.
            let notUTF8 = try fixture.bytes(
                "latin1.csv", Data("external_id,email\nc1,a@example.com\nc2,".utf8) + Data([0xE9, 0x0A]))
            try await expectUnusable(fixture, notUTF8, .badFile, "is not UTF-8")
            try await expectUnusable(
                fixture, try fixture.file("ok.csv", "external_id\nc1\n"), .rejectsUnwritable, "cannot be written",
                options: ImportOptions(rejectsFile: fixture.folder.appendingPathComponent("no/such/dir/rejects.tsv")))
            // --format overrides the extension.
            let jsonAsText = try fixture.file("customers.txt.log", #"{"external_id": "c1"}"#)
            #expect(try await fixture.customers(jsonAsText, ImportOptions(format: .jsonl)).inserted == 1)
        }
    }
}
