import CicloTestSupport
import Foundation
import Postgres
import Testing

/// The database password, given through CICLO_DATABASE_URL_FILE, never shows in what ciclo prints: not in its logs
/// at the most talkative level, not in its errors, whether the URL is right, wrong or malformed. The server asks for
/// a real SCRAM password (scripts/pg-tls.sh), so the password in the file is the one that lets ciclo in.
@Suite("Secrets stay out of logs", .serialized)
struct SecretTests {
    /// Writes `url` to a private file and runs ciclo with only CICLO_DATABASE_URL_FILE pointing at it.
    static func run(_ arguments: [String], urlFile url: String, environment: [String: String] = [:]) async throws
        -> (status: Int32?, output: String)
    {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("db-url-\(UUID().uuidString)")
        try Data((url + "\n").utf8).write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        defer { try? FileManager.default.removeItem(at: file) }
        let run = try CicloRun(url: nil, arguments: arguments, extraEnvironment: [
            "CICLO_DATABASE_URL_FILE": file.path, "CICLO_LOG_LEVEL": "trace", "CICLO_TOKEN_SECRET": "not-the-db-secret-0123",
        ].merging(environment) { $1 })
        run.process.environment?["CICLO_DATABASE_URL"] = nil
        try run.process.run()
        defer { run.stop() }
        let status = await run.wait(timeout: .seconds(60))
        return (status, run.stdout + run.stderr)
    }

    @Test("from a file: migrate, worker and queue depth at trace level, and every error, without the password")
    func passwordNeverPrinted() async throws {
        try await TLSCluster.with { cluster in
            let good = cluster.url()
            let migrate = try await Self.run(["migrate"], urlFile: good)
            #expect(migrate.status == 0, "\(migrate.output.suffix(1500))")
            #expect(migrate.output.contains("applying migration"), "trace logging is on and ciclo logged")
            #expect(!migrate.output.contains(cluster.password))

            // A worker with work to do, logging at trace level.
            let conn = try await PostgresConnection.connect(
                configuration: .init(connectionString: good, applicationName: "ciclo-tests"),
                logger: MigrationDatabase.logger)
            try await Seed.jobs(for: try await Seed.customers(20, on: conn), on: conn)
            await conn.close()
            let worker = try await Self.run(["worker", "--transport", "null", "--drain"], urlFile: good)
            #expect(worker.status == 0, "\(worker.output.suffix(1500))")
            #expect(worker.output.contains("sent=20"), "\(worker.output.suffix(1500))")
            #expect(!worker.output.contains(cluster.password))

            // The delivery secrets too, from files, with a worker that renders (so it builds its whole delivery
            // configuration, which the service lifecycle logs at debug level).
            let tokenSecret = "token-\(UUID().uuidString)", webhookSecret = "hook-\(UUID().uuidString)"
            let secrets = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: secrets, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: secrets) }
            try Data(tokenSecret.utf8).write(to: secrets.appendingPathComponent("token"))
            try Data(webhookSecret.utf8).write(to: secrets.appendingPathComponent("hook"))
            let rendering = try await Self.run(
                ["worker", "--transport", "file", "--outbox", secrets.appendingPathComponent("outbox").path, "--drain"],
                urlFile: good, environment: [
                    "CICLO_TOKEN_SECRET_FILE": secrets.appendingPathComponent("token").path,
                    "CICLO_WEBHOOK_URL": "https://hooks.example/ciclo",
                    "CICLO_WEBHOOK_SECRET_FILE": secrets.appendingPathComponent("hook").path,
                ])
            #expect(rendering.status == 0, "\(rendering.output.suffix(1500))")
            #expect(rendering.output.contains("DeliveryConfiguration"), "the configuration was logged, redacted")
            for secret in [cluster.password, tokenSecret, webhookSecret] {
                #expect(!rendering.output.contains(secret), "a secret leaked: \(rendering.output.suffix(3000))")
            }

            let depth = try await Self.run(["queue", "depth"], urlFile: good)
            #expect(depth.status == 0, "\(depth.output.suffix(1500))")
            #expect(!depth.output.contains(cluster.password))

            // A wrong password: refused by the server, and the wrong one is not printed either.
            let wrongPassword = "wrong-\(UUID().uuidString)"
            let refused = try await Self.run(["migrate", "--status"], urlFile: cluster.url(password: wrongPassword))
            #expect(refused.status == 69)
            #expect(refused.output.contains("password authentication failed"), "\(refused.output)")
            #expect(!refused.output.contains(wrongPassword))

            // Malformed URLs: libpq quotes what it could not parse, which for a URI is the whole URI.
            let malformed = [
                "postgresql://ciclo_app:\(cluster.password)@[::1/ciclo",
                "postgresql://ciclo_app:\(cluster.password)@localhost:\(cluster.port)/ciclo?sslmode=verify-full&nope=1",
                "postgresql://ciclo_app:\(cluster.password)%zz@localhost/ciclo",
                "host=localhost password='\(cluster.password)' sslmode=sometimes",
                "host=localhost password=\(cluster.password) port='\(cluster.port)",
            ]
            for url in malformed {
                let bad = try await Self.run(["migrate", "--status"], urlFile: url)
                #expect(bad.status == 78 || bad.status == 69, "\(url): \(bad.output)")
                #expect(bad.output.contains("ciclo: error:"), "\(bad.output)")
                #expect(!bad.output.contains(cluster.password), "the password leaked for \(url): \(bad.output)")
            }
        }
    }

    @Test("the redaction finds the password in every spelling a connection string allows")
    func redaction() {
        let cases: [(String, String)] = [
            ("postgresql://app:s3cret@[bad", "s3cret"),
            ("postgres://app:p%40ss@host/db", "p@ss"),
            ("postgresql://app@host/db?password=qs-secret&sslmode=require", "qs-secret"),
            ("host=h password = 'sp ace\\'s' dbname=x", "sp ace's"),
            ("host=h password=bare-secret dbname=x", "bare-secret"),
        ]
        for (url, secret) in cases {
            let configuration = PostgresConfiguration(connectionString: url)
            let message = "libpq said: \(url) and \(secret)"
            let redacted = configuration.redactingPassword(in: message)
            #expect(!redacted.contains(secret), "\(url) -> \(redacted)")
            #expect(redacted.contains("***"))
        }
        #expect(PostgresConfiguration(connectionString: "host=h user=u").redactingPassword(in: "host=h") == "host=h")
    }
}
