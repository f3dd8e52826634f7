import Foundation
import Postgres
import Testing

@Suite("Lost and failed connections", .timeLimit(.minutes(3)))
struct ConnectionLossTests {
    /// One sentence for a person: a single line, a capital letter first, one full stop at the very end, and none of
    /// libpq's multi-line prose glued together.
    static func isOneSentence(_ text: String) -> Bool {
        guard let first = text.first, first.isUppercase, text.hasSuffix(".") else { return false }
        let body = text.dropLast()
        if body.contains(where: { $0.isNewline || $0 == "\t" }) { return false }
        for terminator in [". ", "? ", "! ", ".)", "?)", ".;", "; This", "FATAL:", "ERROR:"] where body.contains(terminator) {
            return false
        }
        return !body.hasSuffix(".")
    }

    @Test("a terminated backend gives .connectionLost once, then the connection reconnects")
    func terminatedBackend() async throws {
        let victim = try await TestDatabase.connect("ciclo-tests-victim")
        let killer = try await TestDatabase.connect()
        let before = try await victim.backendPID()
        #expect(try await victim.query("SELECT 1::int4").scalar(Int.self) == 1)

        #expect(try await killer.query("SELECT pg_terminate_backend($1)", [before]).scalar(Bool.self))
        try await TestDatabase.waitForBackendExit(before, using: killer)

        let error = await #expect(throws: PostgresError.self) { try await victim.query("SELECT 1::int4") }
        #expect(error?.code == .connectionLost)
        let description = error?.description ?? ""
        #expect(Self.isOneSentence(description), "not one clear sentence: \(description)")
        #expect(description.contains("SELECT 1") == false, "the statement stays out of the user-facing text")

        // The next call reconnects on its own, to a new backend.
        #expect(try await victim.query("SELECT 2::int4").scalar(Int.self) == 2)
        let after = try await victim.backendPID()
        #expect(after != before)
        #expect(try await victim.query("SELECT pg_backend_pid()").scalar(Int32.self) == after)
    }

    @Test("prepared statements are prepared again after a reconnect")
    func preparedAfterReconnect() async throws {
        let victim = try await TestDatabase.connect("ciclo-tests-victim")
        let killer = try await TestDatabase.connect()
        let sql = "SELECT $1::int8 * 2"
        #expect(try await victim.query(sql, [21], prepared: true).scalar(Int.self) == 42)
        let pid = try await victim.backendPID()
        _ = try await killer.query("SELECT pg_terminate_backend($1)", [pid])
        try await TestDatabase.waitForBackendExit(pid, using: killer)
        let lost = await #expect(throws: PostgresError.self) { try await victim.query(sql, [1], prepared: true) }
        #expect(lost?.code == .connectionLost)
        #expect(try await victim.query(sql, [5], prepared: true).scalar(Int.self) == 10)
    }

    @Test("a connection to a closed port fails with .connectionFailed and never shows the password")
    func closedPort() async throws {
        let configuration = PostgresConfiguration(
            connectionString: "postgresql://u:secretpw@127.0.0.1:1/x", applicationName: "ciclo-tests-refused")
        let error = await #expect(throws: PostgresError.self) {
            _ = try await PostgresConnection.connect(configuration: configuration, logger: TestDatabase.logger)
        }
        #expect(error?.code == .connectionFailed)
        for text in [error?.description ?? "", error?.debugDescription ?? "", error.map { "\($0)" } ?? ""] {
            #expect(text.contains("secretpw") == false, "password leaked: \(text)")
        }
        #expect(error?.description.isEmpty == false)
        #expect(configuration.redactedTarget().contains("secretpw") == false)

        // A lazily opened connection reports the same on first use.
        let lazy = PostgresConnection(configuration: configuration, logger: TestDatabase.logger)
        let first = await #expect(throws: PostgresError.self) { try await lazy.query("SELECT 1") }
        #expect(first?.code == .connectionFailed)
        #expect(first?.description.contains("secretpw") == false)
    }

    @Test("a closed connection refuses further use with .misuse")
    func closedConnection() async throws {
        let conn = try await TestDatabase.connect()
        await conn.close()
        let error = await #expect(throws: PostgresError.self) { try await conn.query("SELECT 1") }
        #expect(error?.code == .misuse)
    }
}
