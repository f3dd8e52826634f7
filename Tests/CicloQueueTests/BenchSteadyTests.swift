import CicloTestSupport
import Foundation
import Postgres
import Testing

/// `ciclo bench steady` as a benchmark harness runs it: a real process on an empty database, read from stdout.
@Suite("ciclo bench steady", .serialized)
struct BenchSteadyTests {
    static let metrics: Set<String> = [
        "claim_p50_ms", "claim_p95_ms", "claim_p99_ms", "enqueue_rate", "completion_rate", "queue_depth",
    ]
    static let sampleKeys: Set<String> = [
        "t", "system", "kind", "subject_kind", "subject", "metric", "value", "window_s", "instance_id",
    ]
    static let descriptorKeys: Set<String> = [
        "kind", "system", "version", "db_name", "event_tables", "extensions", "started_at", "instance_id",
    ]

    func objects(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return try #require(object, "not a JSON object: \(line)")
        }
    }

    @Test("on an empty database it migrates itself, prints a descriptor then aligned samples, and exits 0 on SIGTERM")
    func steadyRunOnEmptyDatabase() async throws {
        // Not migrated: the bench must apply the schema itself, as a harness hands it an empty database.
        let db = try await MigrationDatabase.create()
        let run = try CicloRun.start(
            ["bench", "steady"], url: nil,
            environment: [
                "DATABASE_URL": db.url, "PRODUCER_RATE": "200", "WORKER_COUNT": "2", "SAMPLE_EVERY_S": "1",
                "BENCH_INSTANCE_ID": "3",
            ])
        defer { run.stop() }
        // Samples come every second once the schema is in; migrating takes longer on a loaded machine (and grows
        // with every migration), so wait for four rounds of samples rather than a fixed time.
        let sampled = try await eventually(.seconds(40)) {
            run.stdout.split(separator: "\n").count >= 1 + 4 * Self.metrics.count
        }
        #expect(sampled, "stdout: \(run.stdout.suffix(2000)) stderr: \(run.stderr.suffix(2000))")
        let signalled = ContinuousClock.now
        run.signal(SIGTERM)
        let status = await run.wait(timeout: .seconds(10))
        #expect(status == 0, "stderr: \(run.stderr.suffix(2000))")
        #expect(ContinuousClock.now - signalled < .seconds(5))

        let records = try objects(run.stdout)
        let descriptor = try #require(records.first)
        #expect(Set(descriptor.keys).isSuperset(of: Self.descriptorKeys), "descriptor: \(descriptor)")
        #expect(descriptor["kind"] as? String == "descriptor")
        #expect(descriptor["system"] as? String == "ciclo")
        #expect(descriptor["db_name"] as? String == db.name)
        #expect(descriptor["event_tables"] as? [String] == ["send_jobs", "send_keys", "deliveries"])
        #expect((descriptor["extensions"] as? [Any])?.isEmpty == true)
        #expect((descriptor["version"] as? String)?.isEmpty == false)
        #expect(descriptor["instance_id"] as? Int == 3)

        let samples = Array(records.dropFirst())
        #expect(samples.count >= 4 * Self.metrics.count, "stdout: \(run.stdout)")
        for sample in samples {
            #expect(Set(sample.keys).isSuperset(of: Self.sampleKeys), "sample: \(sample)")
            #expect(sample["kind"] as? String == "adapter")
            #expect(sample["subject_kind"] as? String == "adapter")
            #expect(sample["subject"] as? String == "")
            #expect(sample["system"] as? String == "ciclo")
            #expect(sample["instance_id"] as? Int == 3)
            #expect(Self.metrics.contains(sample["metric"] as? String ?? ""), "sample: \(sample)")
            #expect(sample["value"] is NSNumber && sample["window_s"] is NSNumber, "sample: \(sample)")
            // Aligned to wall-clock multiples of SAMPLE_EVERY_S: whole seconds here.
            #expect((sample["t"] as? String)?.hasSuffix(".000Z") == true, "sample: \(sample)")
        }
        // Every sample carries every metric once.
        let byTime = Dictionary(grouping: samples) { $0["t"] as? String ?? "" }
        for (t, group) in byTime {
            #expect(Set(group.compactMap { $0["metric"] as? String }) == Self.metrics, "at \(t)")
            #expect(group.count == Self.metrics.count, "at \(t)")
        }
        func values(_ metric: String) -> [Double] {
            samples.filter { $0["metric"] as? String == metric }.compactMap { ($0["value"] as? NSNumber)?.doubleValue }
        }
        #expect(values("completion_rate").contains { $0 > 0 }, "stdout: \(run.stdout)")
        #expect(values("enqueue_rate").contains { $0 > 100 }, "stdout: \(run.stdout)")
        #expect(values("claim_p99_ms").contains { $0 > 0 }, "stdout: \(run.stdout)")

        let conn = try await db.connect()
        let sent = "SELECT count(*)::int8 FROM deliveries WHERE outcome = 'sent'"
        #expect(try await conn.query(sent).scalar(Int.self) > 0)
        await conn.close()
        await db.drop()
    }

    @Test(
        "bad configuration: one sentence on stderr, exit 78, nothing on stdout",
        arguments: [
            ["PRODUCER_RATE": "fast", "WORKER_COUNT": "2"],
            ["PRODUCER_RATE": "200", "WORKER_COUNT": "2", "PRODUCER_MODE": "burst"],
            ["WORKER_COUNT": "2", "PRODUCER_MODE": "depth-target"],
            ["PRODUCER_RATE": "200", "WORKER_COUNT": "2", "DATABASE_URL": ""],
        ])
    func badConfiguration(_ environment: [String: String]) async throws {
        // A server that is not there: a bad setting must be reported before anything connects.
        var environment = environment
        environment["DATABASE_URL"] = environment["DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:1/none"
        let run = try CicloRun.start(["bench", "steady"], url: nil, environment: environment)
        defer { run.stop() }
        #expect(await run.wait(timeout: .seconds(10)) == 78, "stderr: \(run.stderr)")
        #expect(run.stdout.isEmpty)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(run.stderr)")
        #expect(lines.first?.hasPrefix("ciclo: error: ") == true, "stderr: \(run.stderr)")
    }
}
