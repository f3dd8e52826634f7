import CicloQueue
import Synchronization

/// What one worker holds: jobs claimed and not yet recorded or released, which of them are running, and the
/// outcomes waiting to be recorded. A lock, not an actor, so handler tasks update it without a hop. Jobs are told
/// apart by their claim (`ClaimedJob.Lease`), not their id alone: the same job may be claimed again by this worker
/// (its lease lapsed and the reaper put it back) while the older claim's handler or outcome is still about.
public final class JobLedger: Sendable {
    /// What a worker did since it started.
    public struct Counters: Sendable {
        public var claimed = 0, sent = 0, suppressed = 0, cancelled = 0, retried = 0, failed = 0, leaseLost = 0
        public var released = 0, throttled = 0
    }

    private struct State {
        var held: [ClaimedJob.Lease: ClaimedJob] = [:]
        var running: Set<ClaimedJob.Lease> = []
        var abandoned: Set<ClaimedJob.Lease> = []
        /// Cancelled at shutdown and not yet returned: a final outcome from one of these is still recorded.
        var cancelling: Set<ClaimedJob.Lease> = []
        /// Cancelled at shutdown and returned without a final outcome: to be released, the attempt given back.
        var toRelease: [ClaimedJob.Lease] = []
        var pending: [(job: ClaimedJob, outcome: JobOutcome)] = []
        /// Outcomes taken by the recorder and not yet confirmed written.
        var recording = 0
        var counters = Counters()
    }
    private let state = Mutex(State())

    var runningCount: Int { state.withLock { $0.running.count } }
    /// Outcomes waiting to be recorded or being written now.
    var unrecordedCount: Int { state.withLock { $0.pending.count + $0.recording } }
    var heldLeases: [ClaimedJob.Lease] { state.withLock { Array($0.held.keys) } }
    var counters: Counters { state.withLock { $0.counters } }

    func hold(_ jobs: [ClaimedJob]) {
        state.withLock { state in
            for job in jobs { state.held[job.lease] = job }
            state.counters.claimed += jobs.count
        }
    }

    func started(_ job: ClaimedJob) { state.withLock { _ = $0.running.insert(job.lease) } }

    /// The ids of those of `leases` whose handler has not returned yet.
    func stillRunning(_ leases: [ClaimedJob.Lease]) -> [Int64] {
        state.withLock { state in leases.filter { state.running.contains($0) }.map(\.id) }
    }

    /// Records a handler's outcome for the recorder, unless the job was abandoned at shutdown meanwhile. A job
    /// cancelled at shutdown keeps a final outcome (its message went out before the cancellation took: releasing it
    /// would send it again); a failure or throttle from one is the cancellation itself, and the job is released.
    func finished(_ job: ClaimedJob, _ outcome: JobOutcome) {
        state.withLock { state in
            state.running.remove(job.lease)
            if state.abandoned.contains(job.lease) { return }
            if state.cancelling.remove(job.lease) != nil {
                switch outcome {
                case .sent, .suppressed, .cancelled: break
                case .failed, .throttled:
                    state.held[job.lease] = nil
                    state.toRelease.append(job.lease)
                    return
                }
            }
            state.pending.append((job, outcome))
        }
    }

    /// At shutdown, past the timeout: the jobs still running are about to be cancelled (see `finished`).
    func cancelRunning() {
        state.withLock { $0.cancelling.formUnion($0.running) }
    }

    func takePending(max: Int) -> [(job: ClaimedJob, outcome: JobOutcome)] {
        state.withLock { state in
            let batch = Array(state.pending.prefix(max))
            state.pending.removeFirst(batch.count)
            state.recording += batch.count
            return batch
        }
    }

    func putBack(_ batch: [(job: ClaimedJob, outcome: JobOutcome)]) {
        state.withLock { state in
            state.pending.insert(contentsOf: batch, at: 0)
            state.recording -= batch.count
        }
    }

    /// Drops recorded jobs from the ledger and counts what happened; returns the ids whose lease was lost.
    func recorded(_ batch: [(job: ClaimedJob, outcome: JobOutcome)], _ result: SendQueue.RecordResult) -> [Int64] {
        let all = result.all
        let retried = Set(result.retried)
        return state.withLock { state in
            state.recording -= batch.count
            var lost: [Int64] = []
            for (job, outcome) in batch {
                state.held[job.lease] = nil
                guard all.contains(job.id) else {
                    lost.append(job.id)
                    continue
                }
                switch outcome {
                case .sent: state.counters.sent += 1
                case .suppressed: state.counters.suppressed += 1
                case .cancelled: state.counters.cancelled += 1
                case .failed: if retried.contains(job.id) { state.counters.retried += 1 } else { state.counters.failed += 1 }
                case .throttled: state.counters.throttled += 1
                }
            }
            state.counters.leaseLost += lost.count
            return lost
        }
    }

    /// At shutdown: the jobs still running are given up, and their late outcomes ignored; returns their leases, with
    /// those that returned from cancellation without a final outcome, to be released. Jobs with an outcome (waiting
    /// or being written) stay with the recorder.
    func abandonRunning() -> [ClaimedJob.Lease] {
        state.withLock { state in
            let running = state.running
            state.abandoned.formUnion(running)
            for lease in running { state.held[lease] = nil }
            defer { state.toRelease = [] }
            return state.toRelease + Array(running)
        }
    }

    func countReleased(_ n: Int) { state.withLock { $0.counters.released += n } }
}
