import Logging
import Postgres

/// A fixed set of database connections shared by the endpoints. A libpq connection has one owner at a time, so a
/// request borrows one for the length of its work and waits in line when all are busy.
public actor ConnectionPool {
    private var idle: [PostgresConnection]
    private var all: [PostgresConnection]
    private var waiters: [CheckedContinuation<PostgresConnection, Never>] = []

    /// Connects `size` connections now, so a wrong URL or a server that is down fails at start-up.
    init(size: Int, configuration: PostgresConfiguration, logger: Logger) async throws {
        var connections: [PostgresConnection] = []
        for _ in 0..<max(1, size) {
            connections.append(try await PostgresConnection.connect(configuration: configuration, logger: logger))
        }
        idle = connections
        all = connections
    }

    /// Runs `body` with a connection of its own; the connection goes back to the pool however `body` ends.
    public nonisolated func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let conn = await checkOut()
        defer { Task { await self.checkIn(conn) } }
        return try await body(conn)
    }

    private func checkOut() async -> PostgresConnection {
        if let conn = idle.popLast() { return conn }
        return await withCheckedContinuation { waiters.append($0) }
    }

    private func checkIn(_ conn: PostgresConnection) {
        if waiters.isEmpty {
            idle.append(conn)
        } else {
            waiters.removeFirst().resume(returning: conn)
        }
    }

    func close() async {
        for conn in all { await conn.close() }
    }
}
