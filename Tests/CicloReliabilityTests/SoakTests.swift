import CicloTestSupport
import Foundation
import Postgres
import Testing

extension ReliabilityTests {
    /// Thirty minutes at a steady rate with the queue table's heap and index sizes sampled. Settings:
    /// CICLO_SOAK_SECONDS (1800), CICLO_SOAK_RATE (500 sends/s), CICLO_SOAK_SAMPLE_S (10).
    ///
    /// The bound: the largest size seen in the last third of the run is at most twice the largest seen in the first
    /// third, which must span a few autovacuum passes (CICLO_SOAK_SECONDS of at least 300). The queue holds only
    /// pending jobs (a few hundred rows at this rate); a finished job's row is deleted and autovacuum makes its
    /// space reusable, so once the first passes have run the table stops growing. Without them it would not stop:
    /// measured here, 60 s at 500 jobs/s before the first pass grew the heap from 0.5 to 22 MB, which over 30 minutes
    /// is about 650 MB, three times the first third's peak by the last third. Twice is the margin left for
    /// autovacuum's timing and for a burst of queue depth on a shared machine.
    @Suite("soak")
    struct Soak {
        static let ratio = 2.0

        /// One sample of the queue table: seconds into the run, heap and index bytes, dead rows.
        struct Size {
            var at: Double
            var heap: Int
            var indexes: Int
            var dead: Int
        }

        @Test("queue table and index sizes stay bounded")
        func steadyRate() async throws {
            let seconds = try Reliability.setting("CICLO_SOAK_SECONDS", 1800)
            let rate = try Reliability.setting("CICLO_SOAK_RATE", 500)
            let every = try Reliability.setting("CICLO_SOAK_SAMPLE_S", 10)
            // Until autovacuum's first pass (its launcher wakes every minute) the heap grows by a minute of churn:
            // at 500 jobs/s, 60 s took it from 0.5 to 22 MB before the first pass. The first third must hold that
            // first pass and a few more, or the bound compares growth with warm-up.
            try #require(seconds >= 300, "CICLO_SOAK_SECONDS must be at least 300 for the bound to mean anything")

            let db = try await MigrationDatabase.create()
            let load = try SteadyLoad.start(url: db.url, rate: rate)
            defer { load.run.stop() }
            try #require(try await load.waitForSamples(), "bench: \(load.run.stderr.suffix(2000))")
            let conn = try await db.connect()
            var sizes: [Size] = []
            let started = ContinuousClock.now
            while ContinuousClock.now - started < .seconds(seconds) {
                if let queue = try await TableSizes.read(["send_jobs"], on: conn).first {
                    let at = Double((ContinuousClock.now - started).components.seconds)
                    sizes.append(Size(at: at, heap: queue.heapBytes, indexes: queue.indexBytes, dead: queue.dead))
                }
                try await Task.sleep(for: .seconds(every))
            }
            #expect(load.run.process.isRunning, "the bench stopped: \(load.run.stderr.suffix(2000))")
            let completions = load.values("completion_rate", from: .distantPast, to: .distantFuture)
            load.run.signal(SIGTERM)
            #expect(await load.run.wait(timeout: .seconds(10)) == 0, "bench: \(load.run.stderr.suffix(1000))")
            let lost = try await QueueLedger.lost(on: conn)
            let sent = try await conn.query("SELECT count(*)::int8 FROM deliveries").scalar(Int.self)
            #expect(lost == 0, "\(lost) enqueued sends are neither delivered nor queued")

            try #require(sizes.count >= 6, "too few samples: \(sizes.count)")
            let third = sizes.count / 3
            let first = sizes.prefix(third)
            let last = sizes.suffix(third)
            func peak(_ part: ArraySlice<Size>, _ field: KeyPath<Size, Int>) -> Int {
                part.map { $0[keyPath: field] }.max() ?? 0
            }
            let heapFirst = peak(first, \.heap)
            let heapLast = peak(last, \.heap)
            let indexFirst = peak(first, \.indexes)
            let indexLast = peak(last, \.indexes)
            #expect(
                Double(heapLast) <= Self.ratio * Double(heapFirst),
                "heap: first third peak \(heapFirst) B, last third peak \(heapLast) B")
            #expect(
                Double(indexLast) <= Self.ratio * Double(indexFirst),
                "indexes: first third peak \(indexFirst) B, last third peak \(indexLast) B")

            let notes = [
                "\(sent.grouped) sends in \(seconds) s, completions/s mean \(Int(completions.mean)), "
                    + "\(sizes.count) samples",
                "send_jobs heap peak: first third \(TableSizes.kib(heapFirst)), last third \(TableSizes.kib(heapLast)); "
                    + "indexes: \(TableSizes.kib(indexFirst)), \(TableSizes.kib(indexLast)) (bound \(Self.ratio)x)",
                "dead rows peak: first third \(peak(first, \.dead).grouped), last third \(peak(last, \.dead).grouped)",
            ]
            for note in notes { print("soak: \(note)") }
            for size in sizes {
                print("soak sample: t=\(Int(size.at)) heap=\(size.heap) indexes=\(size.indexes) dead=\(size.dead)")
            }
            try Reliability.record(
                .init(
                    suite: "soak", load: "\(rate.grouped) sends/s for \(seconds) s", faults: 0, inputs: 0, lost: lost,
                    corrupted: 0, notes: notes))
            await conn.close()
            await db.drop()
        }
    }
}
