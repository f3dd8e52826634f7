import CicloQueue
import CicloTestSupport
import CicloWorker
import Foundation
import Logging
import Postgres
import Testing

/// A send that cannot be taken back once started: it ignores cancellation, as a transfer does after the relay has
/// accepted the message, and reports it sent after `work`. Jobs whose key starts with "stoppable" stop when
/// cancelled instead, as a transfer cancelled before it handed anything over.
struct UnstoppableSend: JobHandler {
    let work: Duration

    func handle(_ job: ClaimedJob) async -> JobOutcome {
        if job.idempotencyKey.hasPrefix("stoppable") {
            do { try await Task.sleep(for: .seconds(60)) } catch { return .failed(.transient("the send was cancelled")) }
            return .sent(providerMessageID: nil)
        }
        // Sleeps on a thread of its own so that the task's cancellation cannot cut it short.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(work.milliseconds))) { done.resume() }
        }
        return .sent(providerMessageID: "accepted-\(job.customerID)")
    }
}

@Suite("Worker shutdown")
struct WorkerShutdownTests {
    @Test("past the shutdown timeout, a send that completes while being cancelled is recorded, not released to go out again; one that stops is released")
    func cancelledSendsAreRecordedOrReleased() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let customers = try await Seed.customers(4, on: conn)
        try await Seed.jobs(for: Array(customers.prefix(2)), prefix: "unstoppable", on: conn)
        try await Seed.jobs(for: Array(customers.suffix(2)), prefix: "stoppable", on: conn)
        let worker = Worker(
            configuration: WorkerConfiguration(
                concurrency: 4, batchSize: 4, lease: .seconds(30), shutdownTimeout: .milliseconds(200),
                pollInterval: .milliseconds(50)),
            database: try db.configuration(), handler: UnstoppableSend(work: .milliseconds(1200)),
            logger: Logger(label: "test.worker"))
        let running = Task { try await worker.run() }
        // A bound, not a timing check: the worker may be slow to start on a loaded machine.
        #expect(try await eventually(.seconds(60)) {
            try await conn.query("SELECT count(*) = 4 FROM send_jobs WHERE state = 'running'").scalar(Bool.self)
        })
        worker.requestStop()
        try await running.value

        let delivered = try await conn.query(
            "SELECT idempotency_key, outcome, provider_message_id FROM deliveries ORDER BY idempotency_key")
        #expect(try delivered.map { try $0.decode(String.self, at: 0) } == customers.prefix(2).map { "unstoppable-\($0)" })
        #expect(try delivered.map { try $0.decode(String.self, at: 1) } == ["sent", "sent"])
        let queued = try await conn.query(
            "SELECT idempotency_key, state, attempts, lease_owner FROM send_jobs ORDER BY idempotency_key")
        #expect(try queued.map { try $0.decode(String.self, at: 0) } == customers.suffix(2).map { "stoppable-\($0)" })
        #expect(try queued.map { try $0.decode(String.self, at: 1) } == ["due", "due"])
        #expect(try queued.map { try $0.decode(Int.self, at: 2) } == [0, 0], "the cancelled attempt is given back")
        #expect(try queued.map { try $0.decode(String?.self, at: 3) } == [nil, nil])
        #expect(worker.counters.sent == 2 && worker.counters.released == 2)
        await conn.close()
        await db.drop()
    }
}
