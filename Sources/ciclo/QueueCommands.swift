import ArgumentParser
import CicloQueue
import Foundation
import Logging
import Postgres

struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "Inspect the send queue.", subcommands: [Depth.self])

    struct Depth: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Counts by state and channel (or campaign), due now versus later, oldest due, last minute.",
            discussion: """
                --json prints one object with these keys: generated_at (UTC ISO 8601), grouped_by ("channel" or
                "campaign"), counts (array of {state, group, count}), totals ({due, running, failed}), due_now,
                scheduled_later, oldest_due_age_seconds (number or null), completed_last_minute,
                failed_last_minute. Keys are only ever added, never renamed or removed.
                """)

        @Option(help: "Group counts by channel or campaign.") var by: QueueDepth.Grouping = .channel
        @Flag(help: "Print JSON for scripts.") var json = false
        @Option(help: "Refresh every SECONDS until interrupted.") var watch: Double?

        func validate() throws {
            if let watch, watch < 0.1 { throw ValidationError("--watch must be at least 0.1 seconds") }
        }

        func run() async throws {
            try await UserError.reporting {
                let environment = CicloEnvironment()
                try environment.bootstrapLogging()
                let conn = try await PostgresConnection.connect(
                    configuration: try environment.database(applicationName: "ciclo-queue"),
                    logger: Logger(label: "ciclo.queue"))
                repeat {
                    let depth = try await QueueDepth.read(grouping: by, on: conn)
                    let text = json ? try Self.json(depth) : Self.table(depth)
                    // Redraw in place: cursor home, clear screen.
                    let clear = watch != nil && !json ? "\u{1B}[H\u{1B}[2J" : ""
                    FileHandle.standardOutput.write(Data((clear + text + "\n").utf8))
                    if let watch { try await Task.sleep(for: .milliseconds(Int64(watch * 1000))) }
                } while watch != nil
            }
        }

        static func json(_ depth: QueueDepth) throws -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: try encoder.encode(depth), as: UTF8.self)
        }

        static func table(_ depth: QueueDepth) -> String {
            let header = ["STATE", depth.groupedBy.uppercased(), "COUNT"]
            let rows = depth.counts.map { [$0.state, $0.group, String($0.count)] }
            var lines = TextTable.render(header: header, rows: rows, rightAligned: [2])
            if rows.isEmpty { lines.append("(the queue is empty)") }
            let oldest = depth.oldestDueAgeSeconds.map { String(format: "%.1fs", $0) } ?? "-"
            lines.append("")
            lines.append("due now \(depth.dueNow) · scheduled later \(depth.scheduledLater) · oldest due \(oldest)")
            lines.append("last minute: \(depth.completedLastMinute) completed, \(depth.failedLastMinute) failed")
            lines.append("at \(depth.generatedAt)")
            return lines.joined(separator: "\n")
        }
    }
}

extension QueueDepth.Grouping: ExpressibleByArgument {}

/// Filters shared by `ciclo retry` and `ciclo discard`.
struct FailedJobOptions: ParsableArguments {
    @Option(help: "One job, by id.") var job: Int64?
    @Option(help: "A campaign, by key or id.") var campaign: String?
    @Option(help: "A channel.") var channel: String?
    @Option(help: "Last error LIKE this pattern (matched anywhere unless it has % or _).") var errorLike: String?
    @Option(help: "Failed within this long (30m, 2h, 1d) or since this ISO 8601 time.") var since: String?
    @Flag(help: "Every failed job (required when no other filter is given).") var all = false
    @Flag(help: "List what would be moved, and move nothing.") var dryRun = false

    func validate() throws {
        let filtered = job != nil || campaign != nil || channel != nil || errorLike != nil || since != nil
        if !filtered && !all {
            throw ValidationError("Name the jobs with --job, --campaign, --channel, --error-like or --since, or pass --all")
        }
        if let since, SinceParser.parse(since, now: Date()) == nil {
            throw ValidationError("--since \(since) is neither a duration like 30m, 2h, 1d nor an ISO 8601 time")
        }
    }

    var filter: FailedJobFilter {
        FailedJobFilter(
            jobID: job, campaign: campaign, channel: channel, errorLike: errorLike,
            since: since.flatMap { SinceParser.parse($0, now: Date()) }.map(PostgresTimestamp.init))
    }

    /// Lists the matching jobs (for --dry-run) or runs `action` and prints how many jobs it moved.
    func perform(verb: String, _ action: (FailedJobs, FailedJobFilter, PostgresConnection) async throws -> Int)
        async throws
    {
        let environment = CicloEnvironment()
        try environment.bootstrapLogging()
        let conn = try await PostgresConnection.connect(
            configuration: try environment.database(applicationName: "ciclo-\(verb)"),
            logger: Logger(label: "ciclo.\(verb)"))
        let jobs = FailedJobs()
        if dryRun {
            let matching = try await jobs.list(filter, on: conn)
            let rows = matching.map { job in
                [String(job.id), job.channel, String(job.attempts), job.failedAt?.description ?? "-",
                 String((job.lastError ?? "").prefix(60))]
            }
            for line in TextTable.render(header: ["JOB", "CHANNEL", "ATTEMPTS", "FAILED AT", "LAST ERROR"], rows: rows,
                                         rightAligned: [0, 2]) { print(line) }
            print("would \(verb) \(matching.count) failed job(s)")
            return
        }
        let moved = try await action(jobs, filter, conn)
        print("\(verb == "retry" ? "retried" : "discarded") \(moved) failed job(s)")
    }
}

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Move failed jobs back to due, with their attempts reset. Running jobs are never touched.")
    @OptionGroup var options: FailedJobOptions

    func run() async throws {
        try await UserError.reporting {
            try await options.perform(verb: "retry") { try await $0.retry($1, on: $2) }
        }
    }
}

struct DiscardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discard",
        abstract: "Give up on failed jobs: they leave the queue for deliveries as 'discarded', errors kept.")
    @OptionGroup var options: FailedJobOptions

    func run() async throws {
        try await UserError.reporting {
            try await options.perform(verb: "discard") { try await $0.discard($1, on: $2) }
        }
    }
}

/// `--since`: a duration back from now (90s, 30m, 2h, 1d) or an ISO 8601 instant.
enum SinceParser {
    static func parse(_ text: String, now: Date) -> Date? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = text.last, let factor = units[unit], let amount = Double(text.dropLast()), amount >= 0 {
            return now.addingTimeInterval(-amount * factor)
        }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}

/// Aligned plain-text columns for terminal output.
enum TextTable {
    static func render(header: [String], rows: [[String]], rightAligned: Set<Int> = []) -> [String] {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return rightAligned.contains(i) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return [line(header)] + rows.map(line)
    }
}
