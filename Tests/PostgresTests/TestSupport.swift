import Foundation
@testable import Postgres
import Synchronization
import Testing

/// Helpers shared by the test files: scratch tables, bounded waits, a listener inbox and timing retries.
extension TestDatabase {
    /// Creates a table with a unique name and the given column list, runs `body` with its name, and drops it
    /// afterwards whether `body` succeeds or throws. The drop uses a fresh connection, so a test that leaves `conn`
    /// broken or closed still cleans up.
    static func withTable<T>(
        _ prefix: String, _ columns: String, on conn: PostgresConnection,
        _ body: (String) async throws -> T
    ) async throws -> T {
        let table = uniqueName(prefix)
        try await conn.query("CREATE TABLE \(table) (\(columns))")
        do {
            let value = try await body(table)
            try await drop(table)
            return value
        } catch {
            try? await drop(table)
            throw error
        }
    }

    private static func drop(_ table: String) async throws {
        let cleaner = try await connect("ciclo-tests-cleanup")
        // A test that leaves a session holding the table's lock must fail, not hang the run.
        try await cleaner.query("SET lock_timeout = '10s'")
        try await cleaner.query("DROP TABLE IF EXISTS \(table)")
        await cleaner.close()
    }

    /// Rows in `table`, counted on `conn`, or by default on a new session: there, rows of a transaction left open
    /// elsewhere are not seen, so a count of 0 means nothing was committed.
    static func count(_ table: String, using conn: PostgresConnection? = nil) async throws -> Int {
        let reader: PostgresConnection
        if let conn { reader = conn } else { reader = try await connect("ciclo-tests-count") }
        return try await reader.query("SELECT count(*) FROM \(table)").scalar(Int.self)
    }

    /// Polls `condition` every few milliseconds until it holds or `limit` passes; returns whether it held.
    /// A bounded wait, not a timing assertion.
    static func waitUntil(
        _ limit: Duration = .seconds(5), _ condition: () async throws -> Bool
    ) async rethrows -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return try await condition()
    }

    /// Waits until the server no longer lists backend `pid` (after `pg_terminate_backend`).
    static func waitForBackendExit(_ pid: Int32, using conn: PostgresConnection) async throws {
        let gone = try await waitUntil {
            try await conn.query("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", [pid]).scalar(Int.self) == 0
        }
        #expect(gone, "backend \(pid) was still running 5 s after pg_terminate_backend")
    }
}

/// A test failure thrown from a body, distinct from any error the client raises.
struct ExpectedFailure: Error, Equatable {
    var tag = "boom"
}

/// Collects a listener's events with the instant each one arrived, so a test can wait for one with a deadline
/// without cancelling the stream's iterator (cancelling an `AsyncStream` iteration ends the stream).
final class EventInbox: Sendable {
    struct Received: Sendable {
        var event: PostgresListenerEvent
        var at: ContinuousClock.Instant
    }
    private struct State {
        var events: [Received] = []
        var consumed = 0
        var finished = false
    }
    private let state = Mutex(State())

    /// Starts a task that drains `events` into this inbox; it ends when the stream finishes. The task runs on a
    /// thread of its own, so the arrival times it records measure the listener, not how busy the cooperative pool
    /// is with the other tests running in parallel.
    func pump(_ events: AsyncStream<PostgresListenerEvent>) -> Task<Void, Never> {
        let executor = ThreadExecutor(name: "test-inbox")
        return Task(executorPreference: executor) { [self] in
            for await event in events {
                let now = ContinuousClock.now
                state.withLock { $0.events.append(Received(event: event, at: now)) }
            }
            state.withLock { $0.finished = true }
            executor.shutdown()
        }
    }

    var isFinished: Bool { state.withLock { $0.finished } }

    /// The next event not yet taken that matches `predicate`, waiting at most `limit`. Earlier non-matching events
    /// are skipped.
    func next(
        within limit: Duration = .seconds(5), where predicate: @Sendable (PostgresListenerEvent) -> Bool = { _ in true }
    ) async -> Received? {
        let deadline = ContinuousClock.now + limit
        while true {
            let (found, finished) = state.withLock { state -> (Received?, Bool) in
                while state.consumed < state.events.count {
                    let candidate = state.events[state.consumed]
                    state.consumed += 1
                    if predicate(candidate.event) { return (candidate, state.finished) }
                }
                return (nil, state.finished)
            }
            if let found { return found }
            if finished || ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }
}

extension PostgresListenerEvent {
    var notification: PostgresNotification? {
        if case .notification(let note) = self { return note }
        return nil
    }
}

/// The outcome of `body` as a value, for checking after some clean-up.
func attempt<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}


/// Timing checks share two cores with every other test running in parallel (worker processes, bulk COPY, the
/// server's own backends), so one slow attempt proves nothing. Tries `measure` up to `attempts` times, pausing in
/// between, and returns the first result that `passes`, or the last one. Only for checks that a broken client
/// fails on every attempt (a blocked pool, serialised statements), never for ones it could pass by luck.
func firstPassing<T>(
    attempts: Int = 4, pause: Duration = .milliseconds(500), _ measure: () async throws -> T,
    passes: (T) -> Bool
) async throws -> T {
    var result = try await measure()
    var attempt = 1
    while !passes(result) && attempt < attempts {
        try await Task.sleep(for: pause)
        result = try await measure()
        attempt += 1
    }
    return result
}

/// How long one `SELECT 1` round trip takes on `conn`: a gauge of how loaded the machine is right now.
func roundTrip(_ conn: PostgresConnection) async throws -> Duration {
    let start = ContinuousClock.now
    _ = try await conn.query("SELECT 1")
    return start.duration(to: .now)
}
