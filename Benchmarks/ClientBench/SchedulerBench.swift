import ArgumentParser
import CicloTestSupport
import Foundation
import Postgres

/// `ciclo-bench scheduler`: one recurring campaign pass with every rule on, run by `ciclo scheduler --once` as its
/// own process, in sends enqueued per second beside a plain INSERT ... SELECT of the same number of rows into the
/// queue on the same server; and the scheduler's peak memory as the population grows.
struct SchedulerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "A full recurring pass over a growing population beside a plain INSERT ... SELECT, with peak memory.")

    @Option(parsing: .upToNextOption, help: "Population sizes, ascending; the last one is the headline.")
    var sizes: [Int] = [250_000, 500_000, 1_000_000]
    @Option(help: "Alternating rounds (pass, then reference) at each size; each side keeps its best.") var rounds = 2
    @Option(help: "Seconds any one pass may take before it is stopped.") var timeLimit = 600
    @Option(help: "The ciclo executable (default: beside ciclo-bench).") var ciclo: String?

    func validate() throws {
        guard !sizes.isEmpty, sizes.allSatisfy({ (1_000...5_000_000).contains($0) }), sizes == sizes.sorted() else {
            throw ValidationError("--sizes must be ascending, each 1,000 to 5,000,000")
        }
        guard (1...5).contains(rounds) else { throw ValidationError("--rounds must be 1 to 5") }
    }

    /// The pass's clock: noon UTC, so customers in Asia and the Pacific are inside their quiet hours and are deferred.
    static let now = ISO8601DateFormatter().date(from: "2026-06-15T12:00:00Z")!

    static let setupSQL = """
        INSERT INTO contact_policy (channel, max_sends, per_days, quiet_start, quiet_end)
        VALUES ('email', 3, 7, '21:00', '08:00') ON CONFLICT DO NOTHING;
        INSERT INTO settings (key, value) VALUES ('global_holdout', '{"share": 0.02, "salt": "bench"}')
        ON CONFLICT DO NOTHING;
        INSERT INTO campaigns (key, name, kind, channel, status, priority, salt) VALUES
            ('history', 'Earlier sends', 'recurring', 'email', 'archived', 0, 'history')
        ON CONFLICT DO NOTHING;
        """
    static let campaignDefinition = """
        {"key": "bench-cycle", "name": "Benchmark cycle", "kind": "recurring", "channel": "email", "priority": 5,
         "holdout": 0.1, "offer_family": "bench", "starts_at": "2026-06-14T12:00:00Z",
         "segment": {"stage": {"in": ["New", "Active", "At-risk", "Churned", "Reactivated", "Nurture"]}},
         "recurring": {"schedule": {"every": "1d"}, "cooldown_days": 21},
         "variables": {"offer_code": "BENCH"},
         "variants": [
           {"name": "A", "templates": {"en": {"subject": "A", "html": "<p>A</p>"}}},
           {"name": "B", "templates": {"en": {"subject": "B", "html": "<p>B</p>"}}},
           {"name": "C", "templates": {"en": {"subject": "C", "html": "<p>C</p>"}}}]}
        """
    static let campaignSQL = """
        INSERT INTO campaigns (key, name, kind, channel, status, priority, salt, definition)
        VALUES ('bench-cycle', 'Benchmark cycle', 'recurring', 'email', 'active', 5, 'bench-cycle', $1::jsonb)
        ON CONFLICT (key) DO UPDATE SET definition = excluded.definition
        """
    /// History that makes the cap and cooldown rules work: a third of the customers had one marketing email from
    /// another campaign lately, one in eleven had three (the cap's limit), and one in twenty got this campaign's
    /// offer family ten days ago (inside the cooldown).
    static let resetSQL = """
        TRUNCATE send_jobs, send_decisions;
        UPDATE campaigns SET next_run_at = NULL, last_run_at = NULL;
        INSERT INTO send_decisions (campaign_id, customer_id, occasion, channel, outcome, variant, offer_family,
                                    marketing, due_at, decided_at, idempotency_key)
        SELECT h.id, c.id, n, 'email', 'queued', 'A', CASE WHEN c.id % 20 = 1 THEN 'bench' ELSE 'history' END, true,
               timestamptz '2026-06-15T12:00:00Z' - CASE WHEN c.id % 20 = 1 THEN interval '10 days' ELSE n * interval '1 day' END,
               timestamptz '2026-06-01T00:00:00Z', 'history:' || c.id || ':' || n
        FROM customers c, campaigns h, generate_series(1, 3) n
        WHERE h.key = 'history'
          AND n <= CASE WHEN c.id % 11 = 2 THEN 3 WHEN c.id % 3 = 0 OR c.id % 20 = 1 THEN 1 ELSE 0 END;
        """
    /// The decisions the pass made, kept to replay its writes without its rules (the floor below).
    static let keepDecisionsSQL = """
        DROP TABLE IF EXISTS pass_decisions;
        CREATE TEMP TABLE pass_decisions AS
        SELECT d.campaign_id, d.customer_id, d.occasion, d.channel, d.outcome, d.reason, d.variant, d.offer_family,
               d.marketing, d.due_at, d.expires_at, d.decided_at, d.idempotency_key, d.stage
        FROM send_decisions d JOIN campaigns k ON k.id = d.campaign_id
        WHERE k.key = 'bench-cycle' ORDER BY d.customer_id;
        """
    /// The floor: the pass's two writes as EligibilityStatement makes them (the decision rows with their upsert,
    /// then the queued ones' jobs with theirs, in one statement), fed from the decisions the pass made instead of
    /// from its rules. What the pass takes beyond this is the rules' cost; the ratio of this to the plain insert
    /// is the most any speed-up of the rules can reach while every decision is written.
    static let floorSQL = """
        WITH written AS (
            INSERT INTO send_decisions (campaign_id, customer_id, occasion, channel, outcome, reason, variant,
                                        offer_family, marketing, due_at, expires_at, decided_at, idempotency_key,
                                        stage)
            SELECT * FROM pass_decisions
            ON CONFLICT (campaign_id, customer_id, occasion) DO UPDATE
            SET outcome = excluded.outcome, reason = excluded.reason, variant = excluded.variant,
                due_at = excluded.due_at, expires_at = excluded.expires_at, decided_at = excluded.decided_at,
                idempotency_key = excluded.idempotency_key, stage = excluded.stage, fold_xid = pg_current_xact_id()
            WHERE send_decisions.outcome NOT IN ('queued', 'holdout', 'global_holdout')
            RETURNING campaign_id, customer_id, occasion, outcome, variant, due_at, expires_at
        ), jobs AS (
            INSERT INTO send_jobs (idempotency_key, campaign_id, customer_id, channel, priority, run_at, payload,
                                   expires_at)
            SELECT 'bench-cycle:' || w.customer_id || ':' || w.occasion, w.campaign_id, w.customer_id, 'email', 5,
                   w.due_at, jsonb_build_object('variant', w.variant, 'variables', '{"offer_code": "BENCH"}'::jsonb,
                                                'occasion', w.occasion),
                   w.expires_at
            FROM written w WHERE w.outcome = 'queued'
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING 1
        )
        SELECT count(*) FROM jobs
        """
    /// VACUUM refuses to run inside the implicit transaction of a multi-statement script: one statement each.
    static let settleSQL = ["VACUUM ANALYZE send_decisions", "VACUUM ANALYZE send_jobs", "VACUUM ANALYZE customers", "CHECKPOINT"]
    /// The reference: the same number of rows, with the same columns, straight into the queue.
    static let referenceSQL = """
        INSERT INTO send_jobs (idempotency_key, campaign_id, customer_id, channel, priority, run_at, payload)
        SELECT 'ref:' || c.id, k.id, c.id, 'email', 5, now(),
               jsonb_build_object('variant', 'A', 'variables', '{"offer_code": "BENCH"}'::jsonb, 'occasion', 1)
        FROM (SELECT id FROM customers ORDER BY id LIMIT $1) c, campaigns k
        WHERE k.key = 'bench-cycle'
        """

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let target = try BenchTarget(environment: environment)
        let cicloPath = try cicloExecutable(ciclo)
        try await ExternalTools.withTools(target: target, environment: environment, grace: .seconds(timeLimit)) { tools in
            try await target.withConnection("ciclo-bench-scheduler") { admin in
                try await migrate(admin)
                try await admin.executeScript(Self.setupSQL)
                try await admin.query(Self.campaignSQL, [Self.campaignDefinition])
                var table = ResultTable()
                var memory: [(size: Int, megabytes: Double)] = []
                var population = 0
                for size in sizes {
                    FileHandle.standardError.write(Data("population \(size): generating\n".utf8))
                    try await Population.generate(size - population, from: population + 1, now: Self.now, on: admin)
                    population = size
                    var best: (pass: Double, process: Double, floor: Double, reference: Double) = (0, 0, 0, 0)
                    var counts = ""
                    for round in 1...rounds {
                        FileHandle.standardError.write(Data("population \(size): round \(round)\n".utf8))
                        try await admin.executeScript(Self.resetSQL)
                        for statement in Self.settleSQL { try await admin.executeScript(statement) }
                        let pass = try await SchedulerProcess.runOnce(
                            ciclo: cicloPath, now: Self.now, environment: target.toolEnvironment,
                            timeout: .seconds(timeLimit))
                        guard pass.status == 0 else {
                            throw BenchError("ciclo scheduler --once failed (status \(pass.status)): \(pass.stderr.suffix(800))")
                        }
                        memory.append((size, pass.peakMegabytes))
                        let enqueued: Int = try await admin.query("SELECT count(*) FROM send_jobs").scalar(Int.self)
                        counts = try await admin.query("""
                            SELECT string_agg(outcome || ' ' || n, ', ' ORDER BY n DESC)
                            FROM (SELECT outcome, count(*) AS n FROM send_decisions d JOIN campaigns k ON k.id = d.campaign_id
                                  WHERE k.key = 'bench-cycle' GROUP BY outcome) t
                            """).scalar(String.self)
                        let passSeconds = pass.passSeconds("bench-cycle") ?? pass.seconds
                        best.pass = max(best.pass, Double(enqueued) / passSeconds)
                        best.process = max(best.process, Double(enqueued) / pass.seconds)
                        // The floor starts where the pass started: history only, an empty queue.
                        try await admin.executeScript(Self.keepDecisionsSQL)
                        try await admin.executeScript(Self.resetSQL)
                        for statement in Self.settleSQL { try await admin.executeScript(statement) }
                        let floorClock = ContinuousClock.now
                        let floorJobs: Int = try await admin.query(Self.floorSQL).scalar(Int.self)
                        let floorSeconds = (ContinuousClock.now - floorClock).seconds
                        guard floorJobs == enqueued else {
                            throw BenchError("the floor enqueued \(floorJobs) jobs where the pass enqueued \(enqueued)")
                        }
                        best.floor = max(best.floor, Double(floorJobs) / floorSeconds)
                        try await admin.executeScript("TRUNCATE send_jobs")
                        for statement in Self.settleSQL { try await admin.executeScript(statement) }
                        let clock = ContinuousClock.now
                        let inserted = try await admin.query(Self.referenceSQL, [enqueued]).affectedRows
                        let seconds = (ContinuousClock.now - clock).seconds
                        best.reference = max(best.reference, Double(inserted) / seconds)
                        FileHandle.standardError.write(Data(String(
                            format: "  pass %d sends in %.2f s (process %.2f s, peak %.1f MiB); its writes alone %.2f s; reference %d rows in %.2f s (%.0f/s)\n",
                            enqueued, passSeconds, pass.seconds, pass.peakMegabytes, floorSeconds, inserted, seconds,
                            Double(inserted) / seconds).utf8))
                    }
                    table.section("recurring pass over \(size) customers (\(counts))")
                    table.row("sends enqueued per second, the pass", client: best.pass, reference: best.reference)
                    table.row("... the whole process (start, tick, exit)", client: best.process, reference: best.reference)
                    table.row("... its writes alone, replayed without the rules (the floor)", client: best.floor,
                              reference: best.reference)
                }
                table.section("scheduler peak memory (MiB, ciclo scheduler --once)")
                for (size, megabytes) in memory {
                    table.row("population \(size)", client: String(format: "%.1f", megabytes), reference: "")
                }
                print("ciclo-bench scheduler: \(target.description); \(ProcessInfo.processInfo.activeProcessorCount) cores")
                print("pass = the campaign pass inside `ciclo scheduler --once` (its logged time; the process's wall time below it),")
                print("all rules on (segment, consent,")
                print("suppression, cooldown, 3-per-7-days cap with history, quiet hours in 11 zones, 2% global and 10%")
                print("campaign holdout, rotation), writing the decision log and the queue; reference = plain INSERT ... SELECT")
                print("of the same number of rows into send_jobs on the same server. Best of \(rounds) alternating round(s).")
                print("The floor replays the pass's own decision rows and jobs through the same upserts without evaluating")
                print("any rule: no rule speed-up can take the pass past the floor's ratio while every decision is written.")
                print("")
                print(table.render())
                _ = tools
            }
        }
    }

    func migrate(_ admin: PostgresConnection) async throws {
        let exists: Bool = try await admin.query("SELECT to_regclass('send_decisions') IS NOT NULL").scalar(Bool.self)
        if !exists { throw BenchError("the database is not migrated; run `ciclo migrate` first (make bench-scheduler does)") }
    }
}

/// `ciclo scheduler --once` as a child process (CicloProcess), with the pass time from its log.
enum SchedulerProcess {
    struct Result {
        var status: Int32
        var seconds: Double
        var peakMegabytes: Double
        var stderr: String

        /// The pass's own time, from the scheduler's log line `pass KEY (S s): ...`.
        func passSeconds(_ key: String) -> Double? {
            guard let line = stderr.split(separator: "\n").first(where: { $0.contains("pass \(key) (") }),
                  let open = line.range(of: "pass \(key) (")?.upperBound,
                  let close = line[open...].firstIndex(of: " ") else { return nil }
            return Double(line[open..<close])
        }
    }

    static func runOnce(ciclo: String, now: Date, environment: [String: String]?, timeout: Duration) async throws
        -> Result
    {
        var env = environment ?? ProcessInfo.processInfo.environment
        env["CICLO_LOG_LEVEL"] = "info"
        let run = try await CicloProcess.run(
            ciclo, ["scheduler", "--once", "--now", ISO8601DateFormatter().string(from: now)], environment: env,
            timeout: timeout)
        return Result(status: run.status, seconds: run.seconds, peakMegabytes: run.peakMegabytes, stderr: run.stderr)
    }
}
