import Foundation
import Postgres
import Testing

/// PostgreSQL's timestamps and dates reach past what `PostgresTimestamp` can hold (Int64 microseconds since 1970
/// ends in year 294247). Reading such a value must be a `.decoding` error, not a crash: these run in a child process
/// (exit tests) so that a trap fails one test instead of ending the whole run.
@Suite("Values outside PostgresTimestamp's range", .timeLimit(.minutes(3)))
struct TimestampRangeTests {
    /// Exit codes the child uses to say what went wrong, so the parent's failure message is specific.
    enum Outcome: Int32 {
        case noError = 3, wrongError = 4
    }

    @Test("timestamptz after year 294247 gives .decoding instead of trapping")
    func farFutureTimestamp() async {
        await #expect(processExitsWith: .success, "the child trapped or decoded an impossible instant") {
            await Self.decodeOutOfRange("SELECT '294276-12-31 23:59:59.999999+00'::timestamptz AS far")
        }
    }

    @Test("date after year 294247 gives .decoding instead of trapping")
    func farFutureDate() async {
        await #expect(processExitsWith: .success, "the child trapped or decoded an impossible instant") {
            await Self.decodeOutOfRange("SELECT '5874897-12-31'::date AS far")
        }
    }

    /// Runs in the exit test's child process: decodes an instant PostgresTimestamp cannot hold and exits with a
    /// specific status unless that gave a `.decoding` error. A trap ends the child with a signal instead.
    static func decodeOutOfRange(_ sql: String) async {
        do {
            let conn = try await TestDatabase.connect()
            let rows = try await conn.query(sql)
            let value = try rows.single().decode(PostgresTimestamp.self, at: 0)
            print("decoded as \(value.microsecondsSinceUnixEpoch)")
            exit(Outcome.noError.rawValue)
        } catch let error as PostgresError where error.code == .decoding {
            // Expected.
        } catch {
            exit(Outcome.wrongError.rawValue)
        }
    }

    @Test("the last instant PostgresTimestamp holds and the earliest PostgreSQL accepts both round-trip")
    func edges() async throws {
        let conn = try await TestDatabase.connect()
        for micros in [Int64.max, -210_866_803_200_000_000] {
            let value = PostgresTimestamp(microsecondsSinceUnixEpoch: micros)
            #expect(try await conn.query("SELECT $1::timestamptz", [value]).scalar(PostgresTimestamp.self) == value)
        }
        // A date is midnight UTC of that day.
        let day = try await conn.query("SELECT '1969-12-31'::date").scalar(PostgresTimestamp.self)
        #expect(day.microsecondsSinceUnixEpoch == -86_400_000_000)
        // Infinity has no instant.
        let infinite = try await conn.query("SELECT 'infinity'::timestamptz AS forever")
        let error = #expect(throws: PostgresError.self) { try infinite.single().decode(PostgresTimestamp.self, at: 0) }
        #expect(error?.code == .decoding)
    }
}
