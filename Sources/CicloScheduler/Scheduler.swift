import Foundation
import Logging
import Postgres
import ServiceLifecycle

/// The scheduler's clock: real time, or real time shifted so that it starts at a given instant (`--now`).
public struct SchedulerClock: Sendable {
    let offset: TimeInterval

    public init(startingAt start: Date? = nil) {
        offset = start.map { $0.timeIntervalSinceNow } ?? 0
    }

    public var now: Date { Date().addingTimeInterval(offset) }
}

public struct SchedulerConfiguration: Sendable {
    public var tick: Duration
    /// Run one tick (waiting for the leadership if another scheduler holds it) and return.
    public var once: Bool
    public var clock: SchedulerClock

    public init(tick: Duration = .seconds(10), once: Bool = false, clock: SchedulerClock = SchedulerClock()) {
        self.tick = tick
        self.once = once
        self.clock = clock
    }
}

/// The scheduler process. Any number may run; one leads, through a session advisory lock held on the connection
/// the passes run on. The lock is checked before every tick and taken again after a reconnect, so a replica
/// that lost its connection (and with it the lock) stops deciding until it leads again.
public struct Scheduler: Service {
    /// pg_advisory_lock key: "ciclo-scheduler" folded into 63 bits, fixed forever.
    public static let leaderLockKey: Int64 = 0x6369_636C_6F5F_7363

    let configuration: SchedulerConfiguration
    let database: PostgresConfiguration
    let logger: Logger

    public init(configuration: SchedulerConfiguration, database: PostgresConfiguration, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.logger = logger
    }

    static let tryLockSQL = "SELECT pg_try_advisory_lock($1)"
    static let lockSQL = "SELECT pg_advisory_lock($1)"
    static let unlockSQL = "SELECT pg_advisory_unlock($1)"
    static let holdsLockSQL = """
        SELECT EXISTS (SELECT 1 FROM pg_locks
                       WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                         AND ((classid::int8 << 32) | objid::int8) = $1 AND objsubid = 1)
        """

    public func run() async throws {
        let conn = try await PostgresConnection.connect(configuration: database, logger: logger)
        if configuration.once {
            try await runOnce(on: conn)
            await conn.close()
            return
        }
        // A shutdown signal cancels the loop between (or inside) ticks; a pass cut short rolls back whole.
        try? await cancelWhenGracefulShutdown { try await loop(on: conn) }
        _ = try? await conn.query(Self.unlockSQL, [Self.leaderLockKey])
        await conn.close()
    }

    private func loop(on conn: PostgresConnection) async throws {
        var leading = false
        var simulation = Tick.SimulationState(start: configuration.clock.now)
        let tick = Tick(logger: logger)
        while !Task.isCancelled {
            do {
                let holds: Bool = try await conn.query(Self.holdsLockSQL, [Self.leaderLockKey]).first!.decode(at: 0)
                if !holds {
                    if leading { logger.warning("lost the scheduler leadership (connection reset?); retrying") }
                    leading = try await conn.query(Self.tryLockSQL, [Self.leaderLockKey]).first!.decode(at: 0)
                    if leading { logger.info("leading the scheduler") }
                }
                if leading {
                    _ = try await tick.run(now: configuration.clock.now, mode: .live, simulation: &simulation, on: conn)
                }
            } catch let error as PostgresError where error.code == .connectionLost || error.code == .connectionFailed {
                leading = false
                logger.error("database unavailable: \(error)")
            } catch is CancellationError {
                return
            } catch {
                // A pass that fails rolled back whole; the next tick tries again rather than stopping the process.
                logger.error("tick failed: \(String(reflecting: error))")
            }
            try await Task.sleep(for: configuration.tick)
        }
    }

    /// One tick under the leadership, waiting for it if another replica holds it.
    func runOnce(on conn: PostgresConnection) async throws {
        try await conn.query(Self.lockSQL, [Self.leaderLockKey])
        var simulation = Tick.SimulationState(start: configuration.clock.now)
        let reports = try await Tick(logger: logger).run(
            now: configuration.clock.now, mode: .live, simulation: &simulation, on: conn)
        try await conn.query(Self.unlockSQL, [Self.leaderLockKey])
        if reports.isEmpty { logger.info("nothing was due") }
    }
}
