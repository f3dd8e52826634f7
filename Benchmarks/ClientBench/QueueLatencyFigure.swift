import CicloQueue
import CicloWorker
import Foundation
import Logging
import Postgres
import Synchronization

/// Pickup latency on an idle queue: one job at a time, from just before its INSERT to the start of its handler in a
/// running worker woken by NOTIFY. Producer and worker share one process, so one clock times both ends.
struct QueueLatencyFigure {
    let target: BenchTarget
    let setup: QueueSetup
    let samples: Int

    /// Hands each handler start to the producer waiting for it.
    final class Probe: JobHandler {
        let starts: AsyncStream<(String, ContinuousClock.Instant)>
        private let continuation: AsyncStream<(String, ContinuousClock.Instant)>.Continuation
        init() { (starts, continuation) = AsyncStream.makeStream() }
        func handle(_ job: ClaimedJob) async -> JobOutcome {
            continuation.yield((job.idempotencyKey, .now))
            return .sent(providerMessageID: nil)
        }
    }

    func run(into table: inout ResultTable) async throws {
        try await setup.reset(enqueue: 0)
        let probe = Probe()
        let worker = Worker(
            configuration: WorkerConfiguration(concurrency: 8, batchSize: 8, pollInterval: .seconds(5)),
            database: PostgresConfiguration(connectionString: target.connectionString, applicationName: "bench-worker"),
            handler: probe, logger: BenchTarget.logger)
        let running = Task { try await worker.run() }
        defer { worker.requestStop() }
        let producer = try await target.connect("bench-producer")
        let customer = try await setup.admin.query(
            "SELECT id FROM customers WHERE external_id = 'qbench-1'").scalar(Int64.self)
        try await Task.sleep(for: .milliseconds(300))  // the worker is listening and idle
        var latencies: [Double] = []
        var iterator = probe.starts.makeAsyncIterator()
        for i in 0..<(samples + 20) {
            let key = "pickup-\(i)"
            let sent = ContinuousClock.now
            try await SendQueue().enqueue([NewJob(idempotencyKey: key, customerID: customer, channel: "email")], on: producer)
            guard let (startedKey, started) = await iterator.next(), startedKey == key else {
                throw BenchError("pickup probe lost track of job \(key)")
            }
            if i >= 20 { latencies.append((started - sent).seconds * 1000) }  // the first 20 warm up
            try await Task.sleep(for: .milliseconds(3))
        }
        worker.requestStop()
        try await running.value
        await producer.close()
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        table.section("pickup latency on an idle queue, ms (insert to handler start, \(latencies.count) single jobs)")
        table.row("p50", client: ResultTable.format(percentile(0.50), decimals: 2), reference: "target < 5")
        table.row("p99", client: ResultTable.format(percentile(0.99), decimals: 2), reference: "target < 50")
        table.row("max", client: ResultTable.format(latencies.last ?? 0, decimals: 2), reference: "")
    }
}

/// Enqueue: SendQueue.enqueue in arrays of 1,000 (registering each key in send_keys) against a plain INSERT ... SELECT
/// of the same number of rows into send_jobs.
struct QueueEnqueueFigure {
    let target: BenchTarget
    let setup: QueueSetup
    let jobs: Int

    func run(into table: inout ResultTable) async throws {
        try await setup.reset(enqueue: 0)
        let conn = try await target.connect("bench-enqueue")
        let customers = try await setup.admin.query(
            "SELECT id FROM customers WHERE external_id LIKE 'qbench-%' ORDER BY id").map { try $0.decode(Int64.self, at: 0) }
        let queue = SendQueue()
        let clock = ContinuousClock()
        let start = clock.now
        var enqueued = 0
        for offset in stride(from: 0, to: jobs, by: 1000) {
            let batch = (offset..<min(jobs, offset + 1000)).map { i in
                NewJob(idempotencyKey: "enq-\(i)", customerID: customers[i % customers.count], channel: "email")
            }
            enqueued += try await queue.enqueue(batch, on: conn)
        }
        let ours = Double(enqueued) / (clock.now - start).seconds
        await conn.close()
        guard enqueued == jobs else { throw BenchError("enqueued \(enqueued) of \(jobs)") }

        try await setup.reset(enqueue: 0)
        let referenceStart = clock.now
        try await setup.admin.query("""
            INSERT INTO send_jobs (idempotency_key, customer_id, channel)
            SELECT 'plain-' || g, $2::int8 + g % $3::int8, 'email' FROM generate_series(1, $1::int8) g
            """, [jobs, customers[0], customers.count])
        let reference = Double(jobs) / (clock.now - referenceStart).seconds
        table.section("enqueue, jobs/s")
        table.row("arrays of 1,000 (keys registered) vs plain INSERT ... SELECT", client: ours, reference: reference)
        try await setup.reset(enqueue: 0)
    }
}
