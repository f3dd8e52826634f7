import Foundation
import Postgres

/// How `ciclo bench steady` runs. Built by the executable from its environment; this module reads no environment.
public struct SteadyConfiguration: Sendable {
    /// Who decides how many jobs to enqueue and when.
    public enum Pacing: Sendable, Equatable {
        /// The process paces itself on real elapsed time (the harness calls this `adapter`); stdin is ignored.
        case clock
        /// A harness writes `ENQUEUE <n>` lines on stdin; each line is n jobs, enqueued at once.
        case harness
    }

    /// What the self-paced producer aims for.
    public enum Mode: Sendable, Equatable {
        /// A rate in jobs per second, which the rate control file can change mid-run.
        case fixed(rate: Double)
        /// Keep this many jobs due or running, whatever the consumers manage.
        case depthTarget(depth: Int)
    }

    /// The bench database; workers use it too, under their own application name.
    public var database: PostgresConfiguration
    /// The `schema/` folder whose migrations the bench applies at start.
    public var schemaDirectory: URL
    /// ciclo's version, for the descriptor line.
    public var version: String
    /// Whether the process paces itself or follows a harness on stdin (fixed mode only).
    public var pacing: Pacing
    /// Fixed rate or depth target.
    public var mode: Mode
    /// A file holding the target rate as a number; re-read on every producer tick when set (fixed mode).
    public var rateControlFile: String?
    /// In-process Worker services, each with its own connections.
    public var workerCount: Int
    /// Jobs each worker runs at once.
    public var workerConcurrency: Int
    /// Most jobs one claim statement takes.
    public var workerBatch: Int
    /// How long in-flight jobs get after SIGTERM; short, because the harness wants an exit within 5 s.
    public var shutdownTimeout: Duration
    /// The approximate size of each job's JSON payload.
    public var payloadBytes: Int
    /// How long each job pretends to work.
    public var work: Duration
    /// Seconds between samples; samples fall on wall-clock multiples of it.
    public var sampleEvery: Double
    /// Tells concurrent bench processes on one database apart, in keys and in every record.
    public var instanceID: Int
    /// The fixed pool of customers (with email consent) the jobs are spread across.
    public var customerCount: Int
    /// The self-paced producer's tick.
    public var tick: Duration

    /// The defaults follow the harness contract: 256-byte payloads, 1 ms of work, a sample every 5 s.
    public init(
        database: PostgresConfiguration, schemaDirectory: URL, version: String, pacing: Pacing = .clock,
        mode: Mode, rateControlFile: String? = nil, workerCount: Int, workerConcurrency: Int = 8,
        workerBatch: Int = 32, shutdownTimeout: Duration = .seconds(2), payloadBytes: Int = 256,
        work: Duration = .milliseconds(1), sampleEvery: Double = 5, instanceID: Int = 0, customerCount: Int = 1000,
        tick: Duration = .milliseconds(20)
    ) {
        self.database = database
        self.schemaDirectory = schemaDirectory
        self.version = version
        self.pacing = pacing
        self.mode = mode
        self.rateControlFile = rateControlFile
        self.workerCount = workerCount
        self.workerConcurrency = workerConcurrency
        self.workerBatch = workerBatch
        self.shutdownTimeout = shutdownTimeout
        self.payloadBytes = payloadBytes
        self.work = work
        self.sampleEvery = sampleEvery
        self.instanceID = instanceID
        self.customerCount = customerCount
        self.tick = tick
    }

    /// The tables ciclo writes for every job, as the harness's descriptor wants them.
    public static let eventTables = ["send_jobs", "send_keys", "deliveries"]
}
