import CicloTestSupport
import Foundation
import Postgres

/// `ciclo bench steady` as the load of the held-snapshot and soak suites: a producer at a fixed rate and in-process
/// workers on the real queue, printing a sample of each metric every SAMPLE_EVERY_S seconds as JSON Lines.
struct SteadyLoad {
    let run: CicloRun

    struct Sample {
        var time: Date
        var metric: String
        var value: Double
    }

    static func start(url: String, rate: Int, workers: Int = 4, sampleEvery: Int = 5) throws -> SteadyLoad {
        SteadyLoad(
            run: try CicloRun.start(
                ["bench", "steady"], url: nil,
                environment: [
                    "DATABASE_URL": url, "PRODUCER_RATE": String(rate), "WORKER_COUNT": String(workers),
                    "SAMPLE_EVERY_S": String(sampleEvery), "CICLO_LOG_LEVEL": "warning",
                ]))
    }

    /// Every sample printed so far.
    var samples: [Sample] {
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return run.stdout.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                object["kind"] as? String == "adapter", let t = object["t"] as? String, let time = parser.date(from: t),
                let metric = object["metric"] as? String, let value = (object["value"] as? NSNumber)?.doubleValue
            else { return nil }
            return Sample(time: time, metric: metric, value: value)
        }
    }

    /// The values of `metric` sampled in `[from, to)`.
    func values(_ metric: String, from: Date, to: Date) -> [Double] {
        samples.filter { $0.metric == metric && $0.time >= from && $0.time < to }.map(\.value)
    }

    /// Waits until the first samples appear (the bench migrates its database first).
    func waitForSamples(timeout: Duration = .seconds(120)) async throws -> Bool {
        try await eventually(timeout) { !samples.isEmpty || !run.process.isRunning }
    }
}

/// Sizes and tuple counts of the queue's tables, from the statistics views.
struct TableSizes: CustomStringConvertible {
    var table: String
    var heapBytes: Int
    var indexBytes: Int
    var live: Int
    var dead: Int

    /// A partitioned table (deliveries) is the sum of its partitions; pg_partition_tree lists nothing for a plain one.
    static let sql = """
        SELECT t.name, sum(pg_relation_size(s.relid))::int8, sum(pg_indexes_size(s.relid))::int8,
               sum(s.n_live_tup)::int8, sum(s.n_dead_tup)::int8
        FROM unnest($1::text[]) AS t(name)
        JOIN pg_stat_user_tables s
          ON s.relid = t.name::regclass OR s.relid IN (SELECT relid FROM pg_partition_tree(t.name::regclass))
        GROUP BY t.name ORDER BY t.name
        """

    static func read(_ tables: [String], on conn: PostgresConnection) async throws -> [TableSizes] {
        try await conn.query(sql, [tables]).map {
            TableSizes(
                table: try $0.decode(at: 0), heapBytes: try $0.decode(at: 1), indexBytes: try $0.decode(at: 2),
                live: try $0.decode(at: 3), dead: try $0.decode(at: 4))
        }
    }

    var description: String {
        "\(table): heap \(Self.kib(heapBytes)), indexes \(Self.kib(indexBytes)), "
            + "\(live.grouped) live, \(dead.grouped) dead"
    }

    static func kib(_ bytes: Int) -> String { "\((bytes / 1024).grouped) KiB" }
}

extension Array where Element == Double {
    var mean: Double { isEmpty ? 0 : reduce(0, +) / Double(count) }
    var median: Double {
        guard !isEmpty else { return 0 }
        let sorted = self.sorted()
        return sorted[sorted.count / 2]
    }
}

/// Every key ever enqueued is in send_keys; each must be in deliveries (finished) or still in send_jobs.
enum QueueLedger {
    static let lostSQL = """
        SELECT count(*)::int8 FROM send_keys k
        WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.idempotency_key = k.idempotency_key)
          AND NOT EXISTS (SELECT 1 FROM send_jobs j WHERE j.idempotency_key = k.idempotency_key)
        """

    static func lost(on conn: PostgresConnection) async throws -> Int {
        try await conn.query(lostSQL).scalar(Int.self)
    }
}
