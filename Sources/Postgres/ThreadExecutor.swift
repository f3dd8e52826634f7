import Foundation

/// A serial executor that runs every job on one dedicated OS thread.
///
/// libpq calls block (network round trips, `poll()`), and blocking Swift's cooperative thread pool starves every
/// other task in the process. Each connection therefore owns a thread of its own, and the connection actor's jobs
/// run there: a blocking libpq call only ever blocks its own connection's thread.
///
/// It is also a task executor, so a task can prefer it (`Task(executorPreference:)`) and run on that thread too.
final class ThreadExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    // `jobs` and `stopping` are guarded by `condition`; that lock is why this type can be @unchecked Sendable.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false

    init(name: String) {
        let thread = Thread { [self] in self.runLoop() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread exit once the jobs already queued have run.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func runLoop() {
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping {
                condition.wait()
            }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch {
                job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
            }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
