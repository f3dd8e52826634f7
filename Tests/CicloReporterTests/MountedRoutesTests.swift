import CicloReporter
import CicloTestSupport
import Foundation
import Hummingbird
import Logging
import Testing

/// Another module's routes (the dashboard's, later) served by the reporter in-process, beside its own.
@Suite("Reporter mounted routes")
struct MountedRoutesTests {
    /// Answers with the number of customers, read through the reporter's own connections.
    struct CustomerCount: ReporterRoutes {
        func register(on router: Router<BasicRequestContext>, database: ConnectionPool) {
            router.get("/customers/count") { _, _ -> String in
                let count = try await database.withConnection { conn in
                    try await conn.query("SELECT count(*) FROM customers").scalar(Int.self)
                }
                return "customers: \(count)"
            }
        }
    }

    /// A port that was free a moment ago.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length); return getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test("mounted routes answer through the reporter's connections; its own endpoints stay")
    func mounted() async throws {
        let db = try await MigrationDatabase.migrated()
        do {
            let conn = try await db.connect()
            try await conn.query("INSERT INTO customers (external_id) VALUES ('a'), ('b')")
            await conn.close()
            let port = try Self.freePort()
            let reporter = Reporter(
                configuration: .init(port: port, tokenSecret: "mounted-routes-test-secret"),
                database: try db.configuration(), routes: [CustomerCount()], logger: Logger(label: "test.reporter"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await reporter.run() }
                var reply: HTTPExchange.Reply?
                _ = try await eventually(.seconds(20)) {
                    reply = try? await HTTPExchange.send("GET", "/customers/count", port: port)
                    return reply != nil
                }
                #expect(reply?.status == 200)
                #expect(reply?.text == "customers: 2")
                #expect(try await HTTPExchange.send("GET", "/healthz", port: port).status == 200)
                group.cancelAll()
            }
        } catch {
            await db.drop()
            throw error
        }
        await db.drop()
    }
}
