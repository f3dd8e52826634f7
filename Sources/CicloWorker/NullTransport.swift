import CicloQueue

/// Delivers nothing and reports success after an optional pause: for benchmarks of the queue itself, and for
/// tests that need a worker to hold jobs for a while.
public struct NullTransport: JobHandler {
    public var work: Duration

    public init(work: Duration = .zero) {
        self.work = work
    }

    public func handle(_ job: ClaimedJob) async -> JobOutcome {
        if work > .zero {
            do {
                try await Task.sleep(for: work)
            } catch {
                return .failed(.transient("cancelled while working"))
            }
        }
        return .sent(providerMessageID: nil)
    }
}
