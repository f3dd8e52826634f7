import CicloTestSupport
import Foundation
import Testing

/// `sslmode=verify-full` against a server whose certificate a CA made for the test signed (deploy/README.md, "TLS
/// to PostgreSQL"). The server refuses TCP without TLS, so a connection that works is a TLS connection.
@Suite("TLS to PostgreSQL", .serialized)
struct TLSTests {
    @Test("verify-full with the right CA connects; a wrong CA, a wrong host name or no TLS fail with a clear error")
    func verifyFull() async throws {
        try await TLSCluster.with { cluster in
            let migrate = try CicloRun.start(["migrate"], url: nil, environment: ["CICLO_DATABASE_URL": cluster.url()])
            defer { migrate.stop() }
            #expect(await migrate.wait(timeout: .seconds(60)) == 0, "stderr: \(migrate.stderr.suffix(1500))")
            #expect(migrate.stdout.contains("0015_roles.sql"))

            let wrongCA = try CicloRun.start(["migrate", "--status"], url: cluster.url(ca: cluster.wrongCAFile))
            defer { wrongCA.stop() }
            #expect(await wrongCA.wait(timeout: .seconds(30)) == 69)
            #expect(wrongCA.stderr.contains("certificate verify failed"), "stderr: \(wrongCA.stderr)")
            #expect(wrongCA.stderr.contains("sslrootcert"), "the error says what to check: \(wrongCA.stderr)")

            // The certificate names localhost and 127.0.0.1; reach the same server under another name.
            let wrongHost = try CicloRun.start(["migrate", "--status"], url: """
                host=db.invalid hostaddr=127.0.0.1 port=\(cluster.port) user=ciclo_app password=\(cluster.password) \
                dbname=ciclo sslmode=verify-full sslrootcert=\(cluster.caFile)
                """)
            defer { wrongHost.stop() }
            #expect(await wrongHost.wait(timeout: .seconds(30)) == 69)
            #expect(wrongHost.stderr.contains("does not match host name \"db.invalid\""), "stderr: \(wrongHost.stderr)")

            let plain = try CicloRun.start(["migrate", "--status"], url: """
                host=127.0.0.1 port=\(cluster.port) user=ciclo_app password=\(cluster.password) dbname=ciclo \
                sslmode=disable
                """)
            defer { plain.stop() }
            #expect(await plain.wait(timeout: .seconds(30)) == 69)
            #expect(plain.stderr.contains("no encryption"), "stderr: \(plain.stderr)")

            // By IP address, which the certificate also names.
            let byAddress = try CicloRun.start(["migrate", "--status"], url: cluster.url(host: "127.0.0.1"))
            defer { byAddress.stop() }
            #expect(await byAddress.wait(timeout: .seconds(30)) == 0, "stderr: \(byAddress.stderr)")
        }
    }
}
