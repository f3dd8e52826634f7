import CicloQueue
import Foundation
import Logging
import Postgres
import ServiceLifecycle
import Synchronization
/// Delivers one claimed job and says how it went. Implementations classify every failure as transient or
/// permanent, and return promptly when their task is cancelled (a worker past its shutdown timeout).
public protocol JobHandler: Sendable {
    func handle(_ job: ClaimedJob) async -> JobOutcome
}

/// How a worker runs.
public struct WorkerConfiguration: Sendable {
    /// Names this worker in leases and logs; unique across every server.
    public var workerID: String
    /// Jobs processed at once.
    public var concurrency: Int
    /// Most jobs claimed by one statement.
    public var batchSize: Int
    public var channels: [String]?
    public var campaignID: Int64?
    public var lease: Duration
    /// How long in-flight jobs may take to finish after a shutdown signal; the rest are released.
    public var shutdownTimeout: Duration
    /// Exit once nothing is due instead of waiting for more work.
    public var drain: Bool
    /// The fallback poll when no NOTIFY arrives; jittered ±25% so that workers do not poll in step.
    public var pollInterval: Duration
    public var reapInterval: Duration
    public var retryPolicy: RetryPolicy

    public init(
        workerID: String = WorkerConfiguration.defaultWorkerID(), concurrency: Int = 16, batchSize: Int = 32,
        channels: [String]? = nil, campaignID: Int64? = nil, lease: Duration = .seconds(60),
        shutdownTimeout: Duration = .seconds(20), drain: Bool = false, pollInterval: Duration = .seconds(2),
        reapInterval: Duration = .seconds(2), retryPolicy: RetryPolicy = RetryPolicy()
    ) {
        self.workerID = workerID
        self.concurrency = concurrency
        self.batchSize = batchSize
        self.channels = channels
        self.campaignID = campaignID
        self.lease = lease
        self.shutdownTimeout = shutdownTimeout
        self.drain = drain
        self.pollInterval = pollInterval
        self.reapInterval = reapInterval
        self.retryPolicy = retryPolicy
    }

    /// host-pid-random: unique per process even when containers reuse pids.
    public static func defaultWorkerID() -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        return "\(host)-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }
}

/// The worker process: claims due jobs in batches, runs them through the handler concurrently, records outcomes
/// in batches, keeps its leases alive, reaps expired leases, and drains on shutdown.
public struct Worker: Service {
    let configuration: WorkerConfiguration
    let database: PostgresConfiguration
    let handler: any JobHandler
    let logger: Logger
    let queue = SendQueue()
    /// Rung by NOTIFY, by freed capacity and by shutdown.
    let claimBell = Doorbell()
    /// Rung whenever an outcome waits to be recorded.
    let recordBell = Doorbell()
    let stopping = StopFlag()
    /// Counts shared with whoever started the worker.
    let ledger: JobLedger

    public init(configuration: WorkerConfiguration, database: PostgresConfiguration, handler: any JobHandler,
                logger: Logger) {
        self.ledger = JobLedger()
        self.configuration = configuration
        self.database = database
        self.handler = handler
        var logger = logger
        logger[metadataKey: "worker"] = "\(configuration.workerID)"
        self.logger = logger
    }

    /// Asks the worker to stop as a shutdown signal would: stop claiming, finish or release, return.
    public func requestStop() {
        stopping.set()
        claimBell.ring()
    }

    /// The worker's counters, for its summary line and for tests.
    public var counters: JobLedger.Counters { ledger.counters }

    public func run() async throws {
        // One connection per role, each on its own thread: claiming never waits behind recording.
        let claimConn = try await PostgresConnection.connect(configuration: database, logger: logger)
        let recordConn = try await PostgresConnection.connect(configuration: database, logger: logger)
        let maintenanceConn = try await PostgresConnection.connect(configuration: database, logger: logger)
        logger.info("worker started", metadata: [
            "concurrency": "\(configuration.concurrency)", "batch": "\(configuration.batchSize)",
            "channels": "\(configuration.channels?.joined(separator: ",") ?? "all")",
        ])
        try await PostgresListener.withListener(
            configuration: database, channels: [SendQueue.notifyChannel], logger: logger
        ) { listener in
            await withGracefulShutdownHandler {
                await withTaskGroup(of: Void.self) { background in
                    background.addTask { for await _ in listener.events { claimBell.ring() } }
                    background.addTask { await recordLoop(recordConn) }
                    background.addTask { await maintenanceLoop(maintenanceConn) }
                    await claimLoop(claimConn)
                    await finish()
                    background.cancelAll()
                    await listener.stop()
                }
            } onGracefulShutdown: {
                stopping.set()
                claimBell.ring()
            }
        }
        let c = ledger.counters
        logger.info("worker stopped", metadata: [
            "claimed": "\(c.claimed)", "sent": "\(c.sent)", "suppressed": "\(c.suppressed)",
            "cancelled": "\(c.cancelled)", "retried": "\(c.retried)", "failed": "\(c.failed)",
            "lease_lost": "\(c.leaseLost)", "released": "\(c.released)", "throttled": "\(c.throttled)",
        ])
        await claimConn.close()
        await recordConn.close()
        await maintenanceConn.close()
    }
}

/// A flag set once from any thread.
final class StopFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
