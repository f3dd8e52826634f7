import CicloImport
import CicloTestSupport
import Foundation
import Postgres
import Testing

/// events is partitioned by month (schema 0011) and its unique key is (source_id, occurred_at): the import's
/// promise of "each event once" must hold across partitions, the DEFAULT partition included.
@Suite("event import into the monthly partitions")
struct EventPartitionImportTests {
    @Test("events spread over months and the DEFAULT partition, imported twice, are stored once each")
    func reimportAcrossPartitions() async throws {
        try await ImportFixture.with { fixture in
            _ = try await fixture.customers(try fixture.file("customers.csv", "external_id\nc1\nc2"))
            // Now and next month (a partition each: a fresh database has this month and three ahead), and 2015
            // (before every partition: DEFAULT).
            let now = Date()
            let nextMonth = now.addingTimeInterval(35 * 86_400)
            let iso = ISO8601DateFormatter()
            let path = try fixture.file(
                "events.jsonl",
                """
                {"customer": "c1", "kind": "login", "time": "\(iso.string(from: now))", "id": "e-now"}
                {"customer": "c2", "kind": "purchase", "time": "\(iso.string(from: nextMonth))", "payload": {"amount": 5}}
                {"customer": "c1", "kind": "login", "time": "2015-06-01T12:00:00Z", "id": "e-2015"}
                {"customer": "c2", "kind": "login", "time": "2015-06-01T12:00:00Z"}
                """)
            let first = try await fixture.events(path)
            #expect(first.summary == "events: 4 read, 4 inserted, 0 already stored, 0 rejected")
            let partitions = try await fixture.conn.query(
                "SELECT tableoid::regclass::text FROM events ORDER BY occurred_at, id"
            ).map { try $0.decode(String.self, at: 0) }
            #expect(partitions.filter { $0 == "events_default" }.count == 2, "2015 is before every month: \(partitions)")
            #expect(Set(partitions.filter { $0 != "events_default" }).count == 2, "two months: \(partitions)")

            let again = try await fixture.events(path)
            #expect(again.summary == "events: 4 read, 0 inserted, 4 already stored, 0 rejected")
            let moved = try fixture.file(
                "moved.jsonl", #"{"customer": "c1", "kind": "login", "time": "2015-07-01T12:00:00Z", "id": "e-2015"}"#)
            let third = try await fixture.events(moved)
            #expect(third.summary == "events: 1 read, 0 inserted, 1 already stored, 0 rejected",
                    "a source id is one event whatever time a later file gives it")
            #expect(try await fixture.conn.query("SELECT count(*) FROM events").scalar(Int.self) == 4)
        }
    }
}
