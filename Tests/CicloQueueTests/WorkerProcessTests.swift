import CicloQueue
import CicloTestSupport
import Foundation
import Postgres
import Testing

/// Workers as real OS processes (`ciclo worker`) on one database.
@Suite("Worker processes", .serialized)
struct WorkerProcessTests {
    func counter(_ name: String, in log: String) -> Int {
        guard let line = log.split(separator: "\n").last(where: { $0.contains("worker stopped") }),
              let field = line.split(separator: " ").first(where: { $0.hasPrefix("\(name)=") })
        else { return -1 }
        return Int(field.dropFirst(name.count + 1)) ?? -1
    }

    @Test("three worker processes complete 20,000 jobs, each exactly once")
    func manyWorkersExactlyOnce() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let customers = try await Seed.customers(20_000, on: conn)
        try await Seed.jobs(for: customers, on: conn)
        let workers = try (0..<3).map { _ in
            try CicloRun.start(["worker", "--transport", "null", "--drain", "--concurrency", "32", "--batch", "64"], url: db.url)
        }
        defer { workers.forEach { $0.stop() } }
        for worker in workers {
            let status = await worker.wait(timeout: .seconds(120))
            #expect(status == 0, "stderr: \(worker.stderr.suffix(2000))")
        }
        let counts = try await conn.query("""
            SELECT count(*)::int8, count(DISTINCT job_id)::int8, count(DISTINCT idempotency_key)::int8,
                   count(*) FILTER (WHERE outcome = 'sent')::int8, (SELECT count(*)::int8 FROM send_jobs)
            FROM deliveries
            """).single()
        #expect(try counts.decode(Int.self, at: 0) == 20_000)
        #expect(try counts.decode(Int.self, at: 1) == 20_000)
        #expect(try counts.decode(Int.self, at: 2) == 20_000)
        #expect(try counts.decode(Int.self, at: 3) == 20_000)
        #expect(try counts.decode(Int.self, at: 4) == 0)
        // Each handler call is counted by the worker that made it: 20,000 in all means none ran twice.
        let handled = workers.map { counter("sent", in: $0.stderr) }
        #expect(handled.allSatisfy { $0 >= 0 })
        #expect(handled.reduce(0, +) == 20_000)
        #expect(workers.map { counter("claimed", in: $0.stderr) }.reduce(0, +) == 20_000)
        await conn.close()
        await db.drop()
    }

    @Test("kill -9 a worker holding jobs: they come back within lease plus reap interval, none lost, the attempt counted")
    func crashedWorkerJobsComeBack() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let customers = try await Seed.customers(5, on: conn)
        try await Seed.jobs(for: customers, on: conn)
        // The victim holds all five jobs, each pretending to work for a minute, under a 2 s lease.
        let victim = try CicloRun.start(
            ["worker", "--transport", "null", "--concurrency", "5", "--work-ms", "60000", "--lease", "2"], url: db.url)
        defer { victim.stop() }
        let held = try await eventually(.seconds(20)) {
            try await conn.query("SELECT count(*) = 5 FROM send_jobs WHERE state = 'running'").scalar(Bool.self)
        }
        #expect(held)
        let rescuer = try CicloRun.start(["worker", "--transport", "null", "--concurrency", "5", "--lease", "2"], url: db.url)
        defer { rescuer.stop() }
        try await Task.sleep(for: .milliseconds(500))
        let killedAt = ContinuousClock.now
        victim.signal(SIGKILL)
        let rescued = try await eventually(.seconds(20)) {
            try await conn.query("SELECT count(*) = 5 FROM deliveries").scalar(Bool.self)
        }
        let elapsed = ContinuousClock.now - killedAt
        #expect(rescued)
        // Lease 2 s + reap interval 2 s (±25% jitter) + claim and record; generous for a loaded machine.
        #expect(elapsed < .seconds(8), "took \(elapsed)")
        let rows = try await conn.query("""
            SELECT attempts, errors->0->>'error' FROM deliveries ORDER BY customer_id
            """)
        #expect(try rows.map { try $0.decode(Int.self, at: 0) } == [2, 2, 2, 2, 2])
        #expect(try rows.allSatisfy { try $0.decode(String.self, at: 1).hasPrefix("lease expired") })
        rescuer.signal(SIGTERM)
        #expect(await rescuer.wait(timeout: .seconds(10)) == 0)
        await conn.close()
        await db.drop()
    }

    @Test("SIGTERM: the worker finishes in-flight jobs within its timeout, exits 0 and leaves nothing leased")
    func sigtermFinishesInFlight() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        try await Seed.jobs(for: try await Seed.customers(40, on: conn), on: conn)
        let worker = try CicloRun.start(
            ["worker", "--transport", "null", "--concurrency", "4", "--work-ms", "400", "--shutdown-timeout", "5"], url: db.url)
        defer { worker.stop() }
        #expect(try await eventually(.seconds(20)) {
            try await conn.query("SELECT count(*) > 0 FROM deliveries").scalar(Bool.self)
        })
        let signalled = ContinuousClock.now
        worker.signal(SIGTERM)
        let status = await worker.wait(timeout: .seconds(10))
        #expect(status == 0, "stderr: \(worker.stderr.suffix(1500))")
        #expect(ContinuousClock.now - signalled < .seconds(5))
        let state = try await conn.query("""
            SELECT count(*) FILTER (WHERE state = 'running' OR lease_owner IS NOT NULL)::int8,
                   (SELECT count(*) FROM deliveries)::int8 + count(*)::int8,
                   count(*) FILTER (WHERE attempts <> 0)::int8
            FROM send_jobs
            """).single()
        #expect(try state.decode(Int.self, at: 0) == 0, "no job is left leased")
        #expect(try state.decode(Int.self, at: 1) == 40, "no job is lost")
        #expect(try state.decode(Int.self, at: 2) == 0, "no unfinished job had an attempt counted")
        #expect(counter("released", in: worker.stderr) == 0, "every in-flight job finished within the timeout")
        await conn.close()
        await db.drop()
    }

    @Test("SIGTERM past the shutdown timeout: the rest are released without counting the attempt, exit 0")
    func sigtermReleasesTheRest() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        try await Seed.jobs(for: try await Seed.customers(6, on: conn), on: conn)
        let worker = try CicloRun.start(
            ["worker", "--transport", "null", "--concurrency", "6", "--work-ms", "60000", "--shutdown-timeout", "0.5"], url: db.url)
        defer { worker.stop() }
        #expect(try await eventually(.seconds(20)) {
            try await conn.query("SELECT count(*) = 6 FROM send_jobs WHERE state = 'running'").scalar(Bool.self)
        })
        let signalled = ContinuousClock.now
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(10)) == 0, "stderr: \(worker.stderr.suffix(1500))")
        #expect(ContinuousClock.now - signalled < .seconds(3))
        let state = try await conn.query(
            "SELECT count(*) FILTER (WHERE state = 'due' AND lease_owner IS NULL AND attempts = 0)::int8 FROM send_jobs"
        ).scalar(Int.self)
        #expect(state == 6)
        #expect(counter("released", in: worker.stderr) == 6)
        await conn.close()
        await db.drop()
    }
}
