import CicloImport
import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite("event import: JSON Lines, stored once each")
struct EventImportTests {
    func customers(_ fixture: ImportFixture, _ ids: [String]) async throws {
        let path = try fixture.file("customers.csv", "external_id\n" + ids.joined(separator: "\n"))
        _ = try await fixture.customers(path)
    }

    /// Stored events as `customer|kind|payload|UTC time`, in time order.
    func stored(_ fixture: ImportFixture) async throws -> [String] {
        try await fixture.conn.query(
            """
            SELECT c.external_id || '|' || e.kind || '|' || e.payload::text || '|' ||
                   to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
            FROM events e JOIN customers c ON c.id = e.customer_id ORDER BY e.occurred_at, e.kind
            """
        ).map { try $0.decode(String.self, at: 0) }
    }

    @Test("events are stored with their customer, kind, payload and time")
    func goodImport() async throws {
        try await ImportFixture.with { fixture in
            try await customers(fixture, ["c1", "c2"])
            let path = try fixture.file(
                "events.jsonl",
                """
                {"customer": "c1", "kind": "purchase", "payload": {"amount": 49.9, "sku": "boots"}, "time": "2026-03-01T09:30:00Z"}
                {"customer": "c2", "kind": "login", "time": "2026-03-01T10:30:00+02:00", "id": "evt-2"}

                {"customer": "c1", "kind": "big_win", "payload": null, "time": "2026-03-02T00:00:00.5Z", "id": 77}
                """)
            let report = try await fixture.events(path)
            #expect(
                report == ImportReport(kind: .events, read: 3, inserted: 3, updated: 0, rejected: 0, firstRejects: []))
            #expect(report.summary == "events: 3 read, 3 inserted, 0 already stored, 0 rejected")
            #expect(
                try await stored(fixture) == [
                    "c2|login|{}|2026-03-01T08:30:00",
                    #"c1|purchase|{"sku": "boots", "amount": 49.9}|2026-03-01T09:30:00"#,
                    "c1|big_win|{}|2026-03-02T00:00:00",
                ])
            let ids = try await fixture.conn.query("SELECT source_id FROM events ORDER BY occurred_at")
                .map { try $0.decode(String.self, at: 0) }
            #expect(ids[0] == "evt-2" && ids[2] == "77")
            #expect(ids[1].hasPrefix("sha256:") && ids[1].count == 7 + 64, "derived from the content")
        }
    }

    @Test("importing the same events again stores nothing twice, however their JSON and times are spelled")
    func reimportDedupes() async throws {
        try await ImportFixture.with { fixture in
            try await customers(fixture, ["c1"])
            let path = try fixture.file(
                "events.jsonl",
                """
                {"customer": "c1", "kind": "purchase", "payload": {"amount": 10, "sku": "x"}, "time": "2026-03-01T09:30:00Z"}
                {"customer": "c1", "kind": "login", "time": "2026-03-01T09:30:00Z", "id": "evt-1"}
                """)
            #expect(try await fixture.events(path).inserted == 2)
            let again = try await fixture.events(path)
            #expect(again.summary == "events: 2 read, 0 inserted, 2 already stored, 0 rejected")

            // The same purchase with its keys in another order and its time at another offset is the same event; a
            // different amount, another time or another kind is not.
            let respelled = try fixture.file(
                "respelled.jsonl",
                """
                {"time": "2026-03-01T10:30:00+01:00", "payload": {"sku": "x", "amount": 10}, "kind": "purchase", "customer": "c1"}
                {"customer": "c1", "kind": "purchase", "payload": {"amount": 11, "sku": "x"}, "time": "2026-03-01T09:30:00Z"}
                {"customer": "c1", "kind": "purchase", "payload": {"amount": 10, "sku": "x"}, "time": "2026-03-01T09:30:01Z"}
                {"customer": "c1", "kind": "refund", "payload": {"amount": 10, "sku": "x"}, "time": "2026-03-01T09:30:00Z"}
                {"customer": "c1", "kind": "login", "time": "2026-03-05T00:00:00Z", "id": "evt-1"}
                {"customer": "c1", "kind": "login", "time": "2026-03-06T00:00:00Z", "id": "evt-9"}
                {"customer": "c1", "kind": "login", "time": "2026-03-07T00:00:00Z", "id": "evt-9"}
                """)
            let third = try await fixture.events(respelled)
            #expect(third.summary == "events: 7 read, 4 inserted, 3 already stored, 0 rejected")
            #expect(try await fixture.count("events") == 6)
            #expect(
                try await fixture.conn.query(
                    "SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'DD') FROM events WHERE source_id = 'evt-9'"
                ).scalar(String.self) == "06", "the first line of a repeated id wins")
        }
    }

    @Test("an event of an unknown customer is a rejected line; the others are stored")
    func unknownCustomer() async throws {
        try await ImportFixture.with { fixture in
            try await customers(fixture, ["c1"])
            let path = try fixture.file(
                "events.jsonl",
                """
                {"customer": "c1", "kind": "login", "time": "2026-03-01T09:30:00Z"}
                {"customer": "ghost", "kind": "login", "time": "2026-03-01T09:30:00Z"}
                {"customer": 404, "kind": "login", "time": "2026-03-01T09:30:00Z"}
                """)
            let report = try await fixture.events(path)
            #expect(report.summary == "events: 3 read, 1 inserted, 0 already stored, 2 rejected")
            #expect(
                report.firstRejects == [
                    RejectedRow(line: 2, reason: #"customer "ghost" is unknown; import the customer first"#),
                    RejectedRow(line: 3, reason: #"customer "404" is unknown; import the customer first"#),
                ])
            #expect(try await fixture.count("events") == 1)
        }
    }

    @Test("every kind of bad event line is reported with its line and reason")
    func badLines() async throws {
        try await ImportFixture.with { fixture in
            try await customers(fixture, ["c1"])
            let rejectsFile = fixture.folder.appendingPathComponent("rejects.tsv")
            let path = try fixture.file(
                "events.ndjson",
                """
                {"customer": "c1", "kind": "login", "time": "2026-03-01T09:30:00Z"}
                {"customer": "c1", "kind": "login", "time": "2026-03-01T09:30:00Z",
                "just a string"
                {"kind": "login", "time": "2026-03-01T09:30:00Z"}
                {"customer": "c1", "time": "2026-03-01T09:30:00Z"}
                {"customer": "c1", "kind": "", "time": "2026-03-01T09:30:00Z"}
                {"customer": "c1", "kind": "login"}
                {"customer": "c1", "kind": "login", "time": "2026-03-01 9:30"}
                {"customer": "c1", "kind": "login", "time": 1772357400}
                {"customer": "c1", "kind": "login", "time": "2026-03-01T09:30:00Z", "payload": [1]}
                {"customer": "c1", "kind": "login", "time": "2026-03-01T09:30:00Z", "when": "now"}
                {"customer": "c1", "kind": "login", "time": "2026-03-01T09:30:00Z", "id": true}
                {"customer": "c1", "kind": "login", "time": "2026-03-01T09:30:00Z", "payload": {"a": "\\u0000"}}
                {"customer": "c1", "kind": "logout", "time": "2026-03-01T09:31:00Z"}
                """)
            let report = try await fixture.events(path, ImportOptions(rejectsFile: rejectsFile))
            #expect(report.summary == "events: 14 read, 2 inserted, 0 already stored, 12 rejected")
            let expected: [Int: String] = [
                2: "is not valid JSON",
                3: "is not a JSON object",
                4: "customer is missing",
                5: "kind is missing",
                6: "kind must be a non-empty string",
                7: "time is missing",
                8: #"time "2026-03-01 9:30" is not an RFC 3339 time like 2026-03-01T09:30:00Z"#,
                9: "time a number is not an RFC 3339 time",
                10: "payload must be an object, not an array",
                11: #"has an unknown field "when"; an event has customer, kind, payload, time and id"#,
                12: "id must be a non-empty string or an integer, not a boolean",
                13: "payload contains a NUL character",
            ]
            let got = ImportFixture.rejects(report)
            #expect(Set(got.keys) == Set(expected.keys))
            for (line, reason) in expected {
                #expect(got[line]?.hasPrefix(reason) == true, "line \(line): \(got[line] ?? "-")")
            }
            #expect(try String(contentsOf: rejectsFile, encoding: .utf8).split(separator: "\n").count == 12)
        }
    }

    @Test("a missing events file fails before anything starts")
    func missingFile() async throws {
        try await ImportFixture.with { fixture in
            let error = await #expect(throws: ImportError.self) {
                try await fixture.events(fixture.folder.appendingPathComponent("none.jsonl").path)
            }
            #expect(error?.code == .unreadable)
        }
    }
}
