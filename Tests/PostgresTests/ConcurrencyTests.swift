import Foundation
import Postgres
import Testing

/// Each connection's blocking libpq calls run on a thread of its own, never on Swift's cooperative pool (which has
/// one thread per core). These tests block more connections than the pool has threads and check that the rest of
/// the process keeps running. Their bounds are generous: they tell "concurrent" from "serialised", nothing finer.
@Suite("Blocking calls stay off the cooperative pool", .timeLimit(.minutes(3)))
struct ConcurrencyTests {
    /// Enough sleeping connections to block every pool thread, were their calls to run there.
    static var poolWidth: Int { max(2, ProcessInfo.processInfo.activeProcessorCount) }

    static func connections(_ count: Int, _ applicationName: String) async throws -> [PostgresConnection] {
        var connections: [PostgresConnection] = []
        for _ in 0..<count { connections.append(try await TestDatabase.connect(applicationName)) }
        return connections
    }

    struct PoolRun {
        var allSleeping = false
        /// From the start of the other work to the last of it finishing.
        var othersTook: Duration = .zero
        /// How long before the first sleep ended the other work was all done (negative: after).
        var margin: Duration = .zero
    }

    /// One run: `sleepers` all in pg_sleep(3), then 50 Swift tasks and a quick query on `quick`. Three seconds, so
    /// that "done well before the sleeps end" holds on a loaded machine: with one second, six attempts in a row once
    /// took 0.62 s or more in a clean-clone CI run.
    static func poolRun(_ sleepers: [PostgresConnection], _ quick: PostgresConnection, _ appName: String)
        async throws -> PoolRun
    {
        var run = PoolRun()
        try await withThrowingTaskGroup(of: ContinuousClock.Instant.self) { sleeping in
            for sleeper in sleepers {
                sleeping.addTask {
                    try await sleeper.query("SELECT pg_sleep(3)")
                    return .now
                }
            }
            // Bounded wait until every sleep is running on the server. With the pool blocked, this task itself
            // could not run until the sleeps ended, and the wait would time out.
            run.allSleeping = try await TestDatabase.waitUntil(.seconds(3)) {
                try await quick.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND query = 'SELECT pg_sleep(3)'",
                    [appName]
                ).scalar(Int.self) == sleepers.count
            }
            let start = ContinuousClock.now
            let lastOther = try await withThrowingTaskGroup(of: ContinuousClock.Instant.self) { others in
                for _ in 0..<50 {
                    others.addTask {
                        // Only needs a pool thread again and again; what it computes is not under test.
                        for _ in 0..<200 { await Task.yield() }
                        return .now
                    }
                }
                others.addTask {
                    let answer = try await quick.query("SELECT 42::int4").scalar(Int.self)
                    #expect(answer == 42)
                    return .now
                }
                var last = start
                for try await finished in others { last = max(last, finished) }
                return last
            }
            run.othersTook = start.duration(to: lastOther)
            var firstSleepEnd: ContinuousClock.Instant?
            for try await end in sleeping { firstSleepEnd = min(firstSleepEnd ?? end, end) }
            run.margin = lastOther.duration(to: firstSleepEnd ?? lastOther)
        }
        return run
    }

    @Test("while connections sleep in pg_sleep(3), 50 Swift tasks and another connection's query finish quickly",
          .timeLimit(.minutes(1)))
    func poolStaysFree() async throws {
        let appName = TestDatabase.uniqueName("sleeper")
        let sleepers = try await Self.connections(Self.poolWidth, appName)
        let quick = try await TestDatabase.connect()
        let run = try await firstPassing(attempts: 6, { try await Self.poolRun(sleepers, quick, appName) }) {
            $0.allSleeping && $0.othersTook < .seconds(2) && $0.margin > .milliseconds(500)
        }
        #expect(run.allSleeping, "the sleeps were not all running at once")
        #expect(run.othersTook < .seconds(2), "plain Swift work and a quick query took \(run.othersTook)")
        #expect(run.margin > .milliseconds(500), "the other work finished only \(run.margin) before a sleep ended")
    }

    @Test("4 pairs of connections each in pg_sleep(0.5) at once take well under the serialised time",
          .timeLimit(.minutes(1)))
    func pairsSleepConcurrently() async throws {
        let connections = try await Self.connections(8, TestDatabase.uniqueName("pairs"))
        let (total, durations) = try await firstPassing(attempts: 6, {
            let start = ContinuousClock.now
            let durations = try await withThrowingTaskGroup(of: Duration.self) { group in
                for pair in 0..<4 {
                    for member in 0..<2 {
                        let conn = connections[pair * 2 + member]
                        group.addTask {
                            let began = ContinuousClock.now
                            try await conn.query("SELECT pg_sleep(0.5)")
                            return began.duration(to: .now)
                        }
                    }
                }
                var all: [Duration] = []
                for try await duration in group { all.append(duration) }
                return all
            }
            return (start.duration(to: .now), durations)
        }) { $0.0 < .milliseconds(1_500) }
        #expect(durations.count == 8)
        #expect(durations.allSatisfy { $0 >= .milliseconds(490) }, "a sleep returned early: \(durations)")
        // Serialised on a two-thread pool this would take 2 s; concurrently about 0.5 s.
        #expect(total < .milliseconds(1_500), "8 concurrent half-second sleeps took \(total)")
    }

    @Test("many tasks sharing one connection are served one at a time, all correctly")
    func sharedConnection() async throws {
        let conn = try await TestDatabase.connect()
        let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for i in 0..<200 {
                group.addTask { (i, try await conn.query("SELECT $1::int8 * 3", [i]).scalar(Int.self)) }
            }
            var all: [(Int, Int)] = []
            for try await pair in group { all.append(pair) }
            return all
        }
        #expect(results.count == 200)
        #expect(results.allSatisfy { $0.1 == $0.0 * 3 })
    }
}
