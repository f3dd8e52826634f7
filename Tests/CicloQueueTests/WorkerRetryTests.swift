import CicloQueue
import CicloTestSupport
import CicloWorker
import Foundation
import Logging
import Postgres
import Synchronization
import Testing

/// A handler that answers from a script per idempotency-key prefix, and counts its calls.
final class ScriptedHandler: JobHandler {
    private let script: Mutex<[String: [JobOutcome]]>
    private let calls = Mutex<[String: Int]>([:])
    /// The outcome once a prefix's script has run out.
    let fallback: JobOutcome

    init(_ script: [String: [JobOutcome]], fallback: JobOutcome = .sent(providerMessageID: nil)) {
        self.script = Mutex(script)
        self.fallback = fallback
    }

    func handle(_ job: ClaimedJob) async -> JobOutcome {
        let prefix = String(job.idempotencyKey.prefix { $0 != "-" })
        calls.withLock { $0[job.idempotencyKey, default: 0] += 1 }
        return script.withLock { script in
            guard var outcomes = script[prefix], !outcomes.isEmpty else { return fallback }
            let next = outcomes.removeFirst()
            script[prefix] = outcomes
            return next
        }
    }

    func setScript(_ prefix: String, _ outcomes: [JobOutcome]) { script.withLock { $0[prefix] = outcomes } }
    func callCount(_ key: String) -> Int { calls.withLock { $0[key, default: 0] } }
}

@Suite("Worker retries")
struct WorkerRetryTests {
    @Test("transient failures retry with backoff, permanent ones fail at once, exhausted ones fail with every error; retry and discard finish them")
    func retryPaths() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let customers = try await Seed.customers(3, on: conn)
        try await Seed.jobs(for: [customers[0]], prefix: "transient", maxAttempts: 5, on: conn)
        try await Seed.jobs(for: [customers[1]], prefix: "permanent", maxAttempts: 5, on: conn)
        try await Seed.jobs(for: [customers[2]], prefix: "exhausted", maxAttempts: 3, on: conn)
        let handler = ScriptedHandler([
            "transient": [.failed(.transient("smtp 451 try later")), .failed(.transient("timeout")),
                          .sent(providerMessageID: "ok-1")],
            "permanent": [.failed(.permanent("550 no such user"))],
            "exhausted": Array(repeating: .failed(.transient("always down")), count: 3),
        ])
        let worker = Worker(
            configuration: WorkerConfiguration(
                concurrency: 4, batchSize: 4, lease: .seconds(30), pollInterval: .milliseconds(50),
                retryPolicy: RetryPolicy(base: .milliseconds(20), cap: .milliseconds(100))),
            database: try db.configuration(), handler: handler, logger: Logger(label: "test.worker"))
        let running = Task { try await worker.run() }

        // A bound, not a timing check: on a loaded 2-core machine running the whole suite a worker can take many
        // seconds to start claiming.
        let settled = try await eventually(.seconds(60)) {
            try await conn.query("""
                SELECT (SELECT count(*) FROM deliveries) = 1
                   AND (SELECT count(*) FROM send_jobs WHERE state = 'failed') = 2
                """).scalar(Bool.self)
        }
        #expect(settled)
        let sent = try await conn.query(
            "SELECT attempts, jsonb_array_length(errors), provider_message_id FROM deliveries WHERE idempotency_key = $1",
            ["transient-\(customers[0])"]).single()
        #expect(try sent.decode(Int.self, at: 0) == 3)
        #expect(try sent.decode(Int.self, at: 1) == 2, "both transient errors are kept with the send")
        #expect(try sent.decode(String.self, at: 2) == "ok-1")

        let failed = try await conn.query("""
            SELECT idempotency_key, attempts, last_error, errors->-1->>'permanent', jsonb_array_length(errors)
            FROM send_jobs ORDER BY idempotency_key
            """)
        #expect(try failed.map { try $0.decode(String.self, at: 0) } == ["exhausted-\(customers[2])", "permanent-\(customers[1])"])
        #expect(try failed[0].decode(Int.self, at: 1) == 3 && failed[0].decode(Int.self, at: 4) == 3)
        #expect(try failed[0].decode(String.self, at: 2) == "always down")
        #expect(try failed[1].decode(Int.self, at: 1) == 1, "a permanent failure is not retried")
        #expect(try failed[1].decode(String.self, at: 3) == "true")
        #expect(handler.callCount("permanent-\(customers[1])") == 1)

        // An operator retries the exhausted job (now the provider is back) and discards the permanent one.
        let jobs = FailedJobs()
        #expect(try await jobs.list(FailedJobFilter(errorLike: "always"), on: conn).count == 1)
        #expect(try await jobs.retry(FailedJobFilter(errorLike: "always"), on: conn) == 1)
        #expect(try await jobs.discard(FailedJobFilter(errorLike: "550%"), on: conn) == 1)
        let finished = try await eventually(.seconds(60)) {
            try await conn.query("SELECT count(*) = 0 FROM send_jobs").scalar(Bool.self)
        }
        #expect(finished)
        let outcomes = try await conn.query(
            "SELECT idempotency_key, outcome, attempts, jsonb_array_length(errors) FROM deliveries ORDER BY idempotency_key")
        #expect(try outcomes.map { try $0.decode(String.self, at: 1) } == ["sent", "discarded", "sent"])
        #expect(try outcomes[0].decode(Int.self, at: 2) == 1, "retry reset the attempts")
        #expect(try outcomes[0].decode(Int.self, at: 3) == 3, "and kept the earlier errors")
        #expect(try outcomes[1].decode(Int.self, at: 3) == 1)

        worker.requestStop()
        try await running.value
        // Retried: two transient failures of one job and the first two attempts of the other; failed: the
        // permanent one and the third attempt of the exhausted one.
        let counters = worker.counters
        #expect(counters.sent == 2)
        #expect(counters.retried == 4)
        #expect(counters.failed == 2)
        await conn.close()
        await db.drop()
    }

    @Test("--campaign names a campaign by key before id: a key made of digits is not read as another campaign's id")
    func numericCampaignKey() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let ids = try await Seed.jobs(for: try await Seed.customers(2, on: conn), on: conn)
        let first: Int64 = try await conn.query(
            "INSERT INTO campaigns (key, name, kind, channel) VALUES ('spring', 'Spring', 'adhoc', 'email') RETURNING id"
        ).scalar()
        let second: Int64 = try await conn.query(
            "INSERT INTO campaigns (key, name, kind, channel) VALUES ($1, 'Digits', 'adhoc', 'email') RETURNING id",
            [String(first)]).scalar()
        try await conn.query("UPDATE send_jobs SET state = 'failed', failed_at = now(), campaign_id = $2 WHERE id = $1",
                             [ids[0], first])
        try await conn.query("UPDATE send_jobs SET state = 'failed', failed_at = now(), campaign_id = $2 WHERE id = $1",
                             [ids[1], second])
        // The key "<first's id>" belongs to the second campaign: it selects that one's job, not the first's.
        let listed = try await FailedJobs().list(FailedJobFilter(campaign: String(first)), on: conn)
        #expect(listed.map(\.id) == [ids[1]])
        #expect(try await FailedJobs().list(FailedJobFilter(campaign: "spring"), on: conn).map(\.id) == [ids[0]])
        await conn.close()
        await db.drop()
    }

    @Test("retry never touches running or due jobs, and needs a matching filter")
    func retryLeavesOthersAlone() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let customers = try await Seed.customers(3, on: conn)
        let ids = try await Seed.jobs(for: customers, on: conn)
        try await conn.query("""
            UPDATE send_jobs SET state = 'running', lease_owner = 'w', lease_expires_at = now() + interval '1 minute',
                   last_error = 'boom' WHERE id = $1
            """, [ids[0]])
        try await conn.query("UPDATE send_jobs SET last_error = 'boom' WHERE id = $1", [ids[1]])
        try await conn.query("UPDATE send_jobs SET state = 'failed', failed_at = now(), attempts = 5, last_error = 'boom' WHERE id = $1", [ids[2]])
        #expect(try await FailedJobs().retry(FailedJobFilter(errorLike: "boom"), on: conn) == 1)
        #expect(try await FailedJobs().retry(FailedJobFilter(jobID: ids[0]), on: conn) == 0)
        let states = try await conn.query("SELECT state, attempts FROM send_jobs ORDER BY id")
        #expect(try states.map { try $0.decode(String.self, at: 0) } == ["running", "due", "due"])
        #expect(try states[2].decode(Int.self, at: 1) == 0)
        await conn.close()
        await db.drop()
    }
}
