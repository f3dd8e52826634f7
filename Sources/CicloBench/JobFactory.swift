import CicloQueue
import Postgres
import Synchronization

/// Makes the bench's jobs: keys unique per job across instances and runs, customers taken in turn from the
/// bench pool, and a payload of the configured size that carries the wall-clock time it was made.
final class JobFactory: Sendable {
    private let keyPrefix: String
    private let customers: [Int64]
    private let padding: String
    /// The number of the next job; only `advance` moves it, so a failed batch is made again with the same keys.
    private let next = Mutex<Int>(0)

    /// `runID` tells this run from earlier ones on the same database (a harness may restart the bench).
    init(instanceID: Int, runID: Int64, customers: [Int64], payloadBytes: Int) {
        precondition(!customers.isEmpty, "the bench needs at least one customer")
        self.keyPrefix = "bench-\(instanceID)-\(runID)-"
        self.customers = customers
        // The payload is {"t":<16 digits>,"pad":"<padding>"}: 31 bytes around the padding.
        self.padding = String(repeating: "x", count: max(0, payloadBytes - 31))
    }

    /// `count` jobs, numbered from the next unused number, stamped now.
    func make(_ count: Int) -> [NewJob] {
        let first = next.withLock { $0 }
        let stamp = BenchTime.nowMicroseconds()
        let payload = JSONB("{\"t\":\(stamp),\"pad\":\"\(padding)\"}")
        return (first..<(first + count)).map { n in
            NewJob(
                idempotencyKey: keyPrefix + String(n), customerID: customers[n % customers.count], channel: "email",
                payload: payload)
        }
    }

    /// Marks `count` jobs as enqueued, so the next batch gets new keys.
    func advance(_ count: Int) {
        next.withLock { $0 += count }
    }
}
