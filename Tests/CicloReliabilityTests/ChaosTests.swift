import CicloTestSupport
import Foundation
import Postgres
import Testing

extension ReliabilityTests {
    /// 100,000 webhook sends through four `ciclo worker --transport live` processes to a slow local provider, while
    /// a random worker is killed with `kill -9` every few seconds and started again, and PostgreSQL is restarted with
    /// `pg_ctl restart -m immediate` once, half-way. Settings: CICLO_CHAOS_SENDS (100000), CICLO_CHAOS_KILL_EVERY_S
    /// (3), CICLO_CHAOS_PROVIDER_MS (slowest provider answer, 20), CICLO_CHAOS_TIMEOUT_S (1800).
    @Suite("chaos")
    struct Chaos {
        static let template = #"{"body": "Ola {{customer.first_name}}, codigo {{offer_code}}"}"#
        static let variables = #"[{"name": "customer.first_name", "default": "cliente"}, {"name": "offer_code"}]"#
        static let payload = #"{"variant": "A", "variables": {"offer_code": "CHAOS"}}"#

        /// The world as `campaign apply`, `ciclo customers import` and the scheduler would leave it: one active
        /// webhook campaign with its template, `count` customers with webhook consent, one due send each.
        static let seedSQL = [
            """
            INSERT INTO campaigns (key, name, kind, channel, status) VALUES ('chaos', 'Chaos', 'adhoc', 'webhook', 'active')
            """,
            """
            INSERT INTO message_templates (campaign_id, variant, version, locale, channel, parts, variables)
            SELECT id, 'A', 1, 'en', 'webhook', $1::jsonb, $2::jsonb FROM campaigns WHERE key = 'chaos'
            """,
            """
            INSERT INTO customers (external_id, locale, timezone, attributes)
            SELECT 'chaos-' || g, 'en', 'UTC', jsonb_build_object('first_name', 'C' || g)
            FROM generate_series(1, $1::int8) g
            """,
            """
            INSERT INTO consents (customer_id, channel, granted, source)
            SELECT id, 'webhook', true, 'chaos' FROM customers WHERE external_id LIKE 'chaos-%'
            """,
            "INSERT INTO send_keys (idempotency_key) SELECT 'chaos-' || id FROM customers WHERE external_id LIKE 'chaos-%'",
            // Attempts are generous: a job may sit in several killed workers, and "lost" must mean lost, not failed.
            """
            INSERT INTO send_jobs (idempotency_key, campaign_id, customer_id, channel, max_attempts, payload)
            SELECT 'chaos-' || c.id, k.id, c.id, 'webhook', 50, $1::jsonb
            FROM customers c CROSS JOIN (SELECT id FROM campaigns WHERE key = 'chaos') k
            WHERE c.external_id LIKE 'chaos-%'
            """,
        ]

        static let progressSQL = "SELECT count(*)::int8 FROM deliveries"

        /// Per send: its outcome count, whether it is still queued, and its attempts.
        static let outcomeSQL = """
            SELECT (SELECT count(*) FROM deliveries WHERE outcome = 'sent')::int8,
                   (SELECT count(DISTINCT idempotency_key) FROM deliveries WHERE outcome = 'sent')::int8,
                   (SELECT count(*) FROM deliveries)::int8,
                   (SELECT count(*) FROM send_jobs)::int8,
                   (SELECT count(*) FROM send_jobs WHERE state = 'failed')::int8,
                   (SELECT count(*) FROM deliveries WHERE attempts > 1)::int8
            """
        static let attemptsSQL = "SELECT idempotency_key, attempts FROM deliveries"

        @Test("no send lost, one delivery per key, duplicate calls carry the same key, the report equals a recount")
        func killWorkersAndRestartPostgres() async throws {
            let sends = try Reliability.setting("CICLO_CHAOS_SENDS", 100_000)
            let killEvery = try Reliability.setting("CICLO_CHAOS_KILL_EVERY_S", 3)
            let slowest = try Reliability.setting("CICLO_CHAOS_PROVIDER_MS", 20)
            let timeout = try Reliability.setting("CICLO_CHAOS_TIMEOUT_S", 1800)
            let dataDirectory = try Reliability.dataDirectory()

            let db = try await MigrationDatabase.migrated()
            let conn = try await db.connect()
            let provider = try await HelperServer.start(slowProviderScript, [String(slowest)])
            defer { provider.stopAndClean() }
            try await conn.query(Self.seedSQL[0])
            try await conn.query(Self.seedSQL[1], [Self.template, Self.variables])
            try await conn.query(Self.seedSQL[2], [sends])
            try await conn.query(Self.seedSQL[3])
            try await conn.query(Self.seedSQL[4])
            try await conn.query(Self.seedSQL[5], [Self.payload])

            let environment = [
                "CICLO_TOKEN_SECRET": "chaos-token-secret-\(UUID().uuidString)",
                "CICLO_PUBLIC_URL": "http://127.0.0.1:9/t",
                "CICLO_WEBHOOK_URL": "http://127.0.0.1:\(provider.port)/hook",
                "CICLO_WEBHOOK_SECRET": "chaos-webhook-secret-\(UUID().uuidString)",
                "CICLO_LOG_LEVEL": "warning",
            ]
            // A 5 s lease: a killed worker's jobs come back within seconds, not a minute.
            let arguments = ["worker", "--transport", "live", "--lease", "5", "--concurrency", "16"]
            func startWorker() throws -> CicloRun {
                try CicloRun.start(arguments, url: db.url, environment: environment)
            }
            var workers = try (0..<4).map { _ in try startWorker() }
            var everyWorker = workers
            defer { for worker in everyWorker { worker.stop() } }

            var kills = 0
            var restarts = 0
            var ownExits: [String] = []
            let started = ContinuousClock.now
            var nextKill = started + .seconds(killEvery)
            var delivered = 0
            while delivered < sends {
                try #require(
                    ContinuousClock.now - started < .seconds(timeout),
                    "only \(delivered) of \(sends) delivered after \(timeout) s")
                try await Task.sleep(for: .milliseconds(250))
                for index in workers.indices where !workers[index].process.isRunning {
                    // A worker that ends by itself is a finding: keep why, and start another.
                    ownExits.append(
                        "status \(workers[index].process.terminationStatus): "
                            + String(workers[index].stderr.suffix(600)))
                    workers[index] = try startWorker()
                    everyWorker.append(workers[index])
                }
                if ContinuousClock.now >= nextKill {
                    nextKill = .now + .seconds(killEvery)
                    let victim = Int.random(in: 0..<workers.count)
                    workers[victim].signal(SIGKILL)
                    workers[victim].process.waitUntilExit()
                    kills += 1
                    workers[victim] = try startWorker()
                    everyWorker.append(workers[victim])
                }
                // The connection is lost when the server restarts; the next use reconnects, so retry quietly.
                guard let count = try? await conn.query(Self.progressSQL).scalar(Int.self) else { continue }
                delivered = count
                // Half-way, and only while sends remain: a restart after the last delivery tests nothing.
                if restarts == 0 && delivered >= sends / 2 && delivered < sends {
                    let (status, output) = try Reliability.serverCommand(
                        "pg_ctl",
                        [
                            "-D", dataDirectory, "-l", "\(dataDirectory)/server.log", "-m", "immediate", "-w",
                            "-t", "60", "restart",
                        ])
                    try #require(status == 0, "pg_ctl restart failed: \(output)")
                    restarts += 1
                }
            }
            let elapsed = ContinuousClock.now - started
            // Without a kill or the restart this would be a plain delivery run, passing without any chaos.
            #expect(kills > 0, "no worker was killed in \(elapsed)")
            #expect(restarts == 1, "PostgreSQL was not restarted while sends remained")
            for worker in workers { worker.signal(SIGTERM) }
            for worker in workers { _ = await worker.wait(timeout: .seconds(30)) }

            // The queue and the history.
            let row = try await conn.query(Self.outcomeSQL).single()
            let sentRows = try row.decode(Int.self, at: 0)
            let sentKeys = try row.decode(Int.self, at: 1)
            let deliveryRows = try row.decode(Int.self, at: 2)
            let queued = try row.decode(Int.self, at: 3)
            let failed = try row.decode(Int.self, at: 4)
            let retried = try row.decode(Int.self, at: 5)
            let lost = sends - sentKeys
            #expect(lost == 0, "\(lost) sends have no sent delivery; \(queued) still queued, \(failed) failed")
            #expect(deliveryRows == sentKeys && sentRows == sentKeys, "a key has more than one delivery record")
            #expect(queued == 0)

            // The provider's side: every key called at least once, no other key, and a key called n times was
            // claimed at least n times (each claim counts an attempt), so every repeat is a retry of the same send.
            let log = try String(contentsOf: provider.directory.appendingPathComponent("calls.log"), encoding: .utf8)
            var calls: [String: Int] = [:]
            for line in log.split(separator: "\n") { calls[String(line), default: 0] += 1 }
            let attempts = Dictionary(
                uniqueKeysWithValues: try await conn.query(Self.attemptsSQL).map {
                    (try $0.decode(String.self, at: 0), try $0.decode(Int.self, at: 1))
                })
            let totalCalls = calls.values.reduce(0, +)
            let duplicateCalls = totalCalls - calls.count
            let strangers = calls.keys.filter { attempts[$0] == nil }
            let uncalled = attempts.keys.filter { calls[$0] == nil }
            // Strict only on a durable server (`make test-reliability` runs with-test-db.sh --durable): with
            // synchronous_commit off, the immediate restart loses claims already committed to the worker, so a send
            // can be called, lose its counted attempt, and be claimed and called again with attempts = 1.
            let overcalled = calls.filter { key, n in n > (attempts[key] ?? 0) }.keys.sorted()
            #expect(strangers.isEmpty, "calls with keys that are no send's: \(strangers.prefix(5))")
            #expect(
                uncalled.isEmpty, "\(uncalled.count) sends recorded sent without a provider call: \(uncalled.prefix(5))"
            )
            #expect(
                overcalled.isEmpty, "\(overcalled.count) keys called more often than claimed: \(overcalled.prefix(8))")

            // The reporter's totals against a recount.
            let fold = try CicloRun.start(["aggregate", "--once"], url: db.url)
            defer { fold.stop() }
            #expect(await fold.wait(timeout: .seconds(600)) == 0, "aggregate: \(fold.stderr.suffix(1000))")
            let verify = try CicloRun.start(["report", "--verify"], url: db.url)
            defer { verify.stop() }
            let verified = await verify.wait(timeout: .seconds(600))
            #expect(
                verified == 0 && verify.stdout.contains("match: every rollup"), "verify: \(verify.stdout.suffix(1500))")
            let report = try CicloRun.start(["report", "--format", "json", "--campaign", "chaos"], url: db.url)
            defer { report.stop() }
            #expect(await report.wait(timeout: .seconds(120)) == 0, "report: \(report.stderr.suffix(1000))")
            let reported = try ReportSent.sent(in: report.stdout, campaign: "chaos")
            #expect(reported == sentRows, "the report says \(reported) sent, the deliveries \(sentRows)")

            let seconds = Double(elapsed.components.seconds)
            let notes = [
                "\(sentRows.grouped) sent in \(Int(seconds)) s (\(Int(Double(sentRows) / max(seconds, 1))) sends/s)",
                "\(kills) kill -9, \(restarts) PostgreSQL immediate restart, "
                    + "\(ownExits.count) workers exited by themselves",
                "\(totalCalls.grouped) provider calls for \(calls.count.grouped) keys: \(duplicateCalls) duplicate calls, "
                    + "\(calls.values.filter { $0 > 1 }.count) keys called twice or more, "
                    + "\(retried) sends claimed more than once",
                "report: \(reported.map { $0.grouped } ?? "none") sent; "
                    + "--verify status \(verified.map { String($0) } ?? "none")",
            ]
            for exit in ownExits.prefix(3) { print("worker exited by itself: \(exit)") }
            try Reliability.record(
                .init(
                    suite: "chaos", load: "\(sends.grouped) webhook sends, 4 workers", faults: kills + restarts,
                    inputs: 0, lost: lost,
                    corrupted: (deliveryRows - sentKeys) + uncalled.count + overcalled.count
                        + (reported == sentRows ? 0 : 1), notes: notes))
            await conn.close()
            await db.drop()
        }
    }
}

/// The `sent` figure of a campaign's total line in `ciclo report --format json`.
enum ReportSent {
    struct Report: Decodable {
        struct Line: Decodable {
            struct Figures: Decodable { var sent: Int }
            var campaign: String
            var total: Bool
            var figures: Figures
        }
        var lines: [Line]
    }

    static func sent(in json: String, campaign: String) throws -> Int? {
        let lines = try JSONDecoder().decode(Report.self, from: Data(json.utf8)).lines.filter {
            $0.campaign == campaign
        }
        return (lines.count == 1 ? lines.first : lines.first(where: \.total))?.figures.sent
    }
}
