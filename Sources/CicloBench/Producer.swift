import CicloQueue
import Foundation
import Logging
import Postgres
import Synchronization

/// Enqueues bench jobs: paced on real elapsed time (fixed rate or depth target), or as a harness asks on stdin.
/// Every database error is logged and retried after a short backoff, so a PostgreSQL restart costs a pause, not
/// the run.
struct Producer: Sendable {
    /// Most jobs in one enqueue statement; larger amounts go in several.
    static let chunk = 2000

    let configuration: SteadyConfiguration
    let jobs: JobFactory
    let connection: PostgresConnection
    let enqueued: Counter
    let stopping: Flag
    let logger: Logger
    let queue = SendQueue()

    func run() async {
        switch (configuration.mode, configuration.pacing) {
        // A harness paces fixed-rate runs only; depth-target runs keep their own loop and ignore stdin.
        case (.depthTarget(let depth), _): await runDepthTarget(depth)
        case (.fixed, .harness): await runHarnessPaced()
        case (.fixed(let rate), .clock): await runFixedRate(rate)
        }
    }

    /// A credit accumulator on real elapsed time: a tick that comes late earns more jobs, never fewer, so the
    /// offered rate holds whatever the scheduler or the database does to the tick.
    private func runFixedRate(_ initialRate: Double) async {
        var rate = initialRate
        var credit = 0.0
        var last = ContinuousClock.now
        var next = last
        var failures = 0
        while !stopping.isSet {
            next = max(next + configuration.tick, .now)
            try? await Task.sleep(until: next)
            let now = ContinuousClock.now
            let elapsed = Sampler.seconds(now - last)
            last = now
            rate = readRate(rate)
            if rate <= 0 {
                credit = 0
                continue
            }
            // After an outage, catch up at most one second of jobs: a burst of everything missed is a load pattern
            // nobody asked for.
            credit = min(credit + rate * elapsed, max(rate, 1))
            let whole = Int(credit)
            if whole == 0 { continue }
            credit -= Double(whole)
            let done = await enqueue(whole, failures: &failures)
            credit += Double(whole - done)
        }
    }

    /// The rate control file's number, or `current` while the file is missing or does not hold one (a harness
    /// rewriting it mid-run may briefly leave it empty).
    private func readRate(_ current: Double) -> Double {
        guard let path = configuration.rateControlFile,
            let text = try? String(contentsOfFile: path, encoding: .utf8),
            let rate = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), rate.isFinite
        else { return current }
        if rate != current { logger.info("producer rate changed", metadata: ["rate": "\(max(0, rate))"]) }
        return max(0, rate)
    }

    /// Tops the queue up to the target depth every tick.
    private func runDepthTarget(_ target: Int) async {
        var failures = 0
        while !stopping.isSet {
            try? await Task.sleep(for: configuration.tick)
            let depth: Int
            do {
                depth = try await connection.query(Sampler.depthSQL, prepared: true).scalar(Int.self)
            } catch {
                failures += 1
                logger.warning("queue depth query failed; retrying", metadata: ["error": "\(error)"])
                await backoff(failures)
                continue
            }
            if depth < target { _ = await enqueue(min(target - depth, Self.chunk), failures: &failures) }
        }
    }

    /// Enqueues what the harness asked for on stdin. A thread of its own reads stdin, because a blocking read
    /// must not hold a cooperative thread; it only adds to a counter, so stdin is always drained at once and the
    /// harness's non-blocking writes never find the pipe full.
    private func runHarnessPaced() async {
        let requested = Counter()
        let logger = self.logger
        let reader = Thread {
            while let line = readLine() {
                let words = line.split(whereSeparator: \.isWhitespace)
                guard words.count == 2, words[0] == "ENQUEUE", let n = Int(words[1]), n >= 0 else {
                    logger.warning("ignoring a stdin line that is not ENQUEUE <n>", metadata: ["line": "\(line)"])
                    continue
                }
                requested.add(n)
            }
            logger.notice("stdin closed; no more ENQUEUE lines will come")
        }
        reader.name = "bench-stdin"
        reader.start()
        var failures = 0
        while !stopping.isSet {
            let n = requested.take()
            if n == 0 {
                try? await Task.sleep(for: .milliseconds(5))
                continue
            }
            let done = await enqueue(n, failures: &failures)
            requested.add(n - done)
        }
    }

    /// Enqueues up to `n` jobs in statements of at most `chunk`; returns how many it got through (short only when
    /// a statement failed, after the backoff). A failed chunk's keys are used again by the next attempt, so a
    /// statement that committed before its connection dropped is not enqueued twice.
    private func enqueue(_ n: Int, failures: inout Int) async -> Int {
        var done = 0
        while done < n && !stopping.isSet {
            let count = min(Self.chunk, n - done)
            let batch = jobs.make(count)
            do {
                enqueued.add(try await queue.enqueue(batch, on: connection))
                jobs.advance(count)
                done += count
                failures = 0
            } catch {
                failures += 1
                logger.warning("enqueue failed; retrying", metadata: ["error": "\(error)", "jobs": "\(count)"])
                await backoff(failures)
                return done
            }
        }
        return done
    }

    /// 100 ms doubling to 2 s: quick after a blip, gentle on a server that is starting up.
    private func backoff(_ failures: Int) async {
        let ms = min(2000, 100 << min(failures - 1, 5))
        let deadline = ContinuousClock.now + .milliseconds(ms)
        // In slices, so a shutdown request is noticed within one.
        while !stopping.isSet && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// A count shared between tasks and threads.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func add(_ n: Int) { value.wrappingAdd(n, ordering: .relaxed) }
    func take() -> Int { value.exchange(0, ordering: .relaxed) }
    var current: Int { value.load(ordering: .relaxed) }
}

/// A flag set once from any thread.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
