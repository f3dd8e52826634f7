import ArgumentParser
import CicloScheduler
import Foundation
import Logging
import Postgres
import ServiceLifecycle

/// Reads an RFC 3339 instant from a flag (`2026-03-29T01:30:00Z`, `2026-03-29T02:30:00+01:00`, or a bare date
/// `2026-03-29`, meaning midnight UTC).
func parseInstant(_ text: String, flag: String) throws -> Date {
    let withTime = ISO8601DateFormatter()
    if let date = withTime.date(from: text) { return date }
    let fractional = ISO8601DateFormatter()
    fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = fractional.date(from: text) { return date }
    let dateOnly = ISO8601DateFormatter()
    dateOnly.formatOptions = [.withFullDate]
    if let date = dateOnly.date(from: text) { return date }
    throw ValidationError("\(flag) \(text) is not an RFC 3339 time such as 2026-01-01T09:00:00Z or a date such as 2026-01-01")
}

/// Reads a duration such as 30s, 15m, 1h or 1d.
func parseDuration(_ text: String, flag: String) throws -> Duration {
    let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
    guard let unit = text.last, let scale = units[unit], let value = Int64(text.dropLast()), value > 0 else {
        throw ValidationError("\(flag) \(text) is not a duration such as 30s, 15m, 1h or 1d")
    }
    return .seconds(value * scale)
}

struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Evaluate due campaigns and new events on every tick and enqueue the sends they decide.",
        discussion: """
            Run as many replicas as you like: one leads (a PostgreSQL advisory lock, checked on every tick and
            taken again after a reconnect) and the others wait. Every pass is one set-based statement per campaign
            that records each decision in send_decisions; a repeated pass never enqueues twice.
            """)

    @Option(help: "Seconds between ticks.") var tick = 10.0
    @Flag(help: "Run one tick (waiting for the leadership) and exit.") var once = false
    @Option(help: "Start the scheduler's clock at this instant (RFC 3339) instead of now.") var now: String?

    func validate() throws {
        guard tick > 0 else { throw ValidationError("--tick must be positive") }
        if let now { _ = try parseInstant(now, flag: "--now") }
    }

    func run() async throws {
        try await UserError.reporting {
            let environment = CicloEnvironment()
            try environment.bootstrapLogging()
            let logger = Logger(label: "ciclo.scheduler")
            let database = try environment.database(applicationName: "ciclo-scheduler")
            let start = try now.map { try parseInstant($0, flag: "--now") }
            let scheduler = Scheduler(
                configuration: SchedulerConfiguration(
                    tick: .milliseconds(Int64(tick * 1000)), once: once, clock: SchedulerClock(startingAt: start)),
                database: database, logger: logger)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: SecondSignalExit()),
                           .init(service: scheduler, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }
}

struct WhyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "why",
        abstract: "Explain what the scheduler decided for a customer and a campaign, occasion by occasion.")

    @Option(help: "The customer's external id.") var customer: String
    @Option(help: "The campaign's key.") var campaign: String
    @Option(help: "Most occasions shown, newest first.") var limit = 20

    func run() async throws {
        try await UserError.reporting {
            let environment = CicloEnvironment()
            try environment.bootstrapLogging()
            let logger = Logger(label: "ciclo.why")
            let conn = try await PostgresConnection.connect(
                configuration: try environment.database(applicationName: "ciclo-why"), logger: logger)
            let answer: Why.Answer
            do {
                answer = try await Why().explain(customer: customer, campaign: campaign, limit: limit, on: conn)
            } catch let problem as Why.Problem {
                throw UserError(description: problem.description.prefix(1).uppercased() + problem.description.dropFirst() + ".", exitCode: 1)
            }
            print(WhyReport.render(answer))
            await conn.close()
        }
    }
}

/// Plain-text rendering of `ciclo why`.
enum WhyReport {
    static func render(_ answer: Why.Answer) -> String {
        var lines = ["customer \(answer.customer), campaign \(answer.campaign) (\(answer.channel))"]
        lines.append("  consent for \(answer.channel): \(answer.consent ? "granted" : "not granted")"
                     + (answer.suppression.map { "; suppressed: \($0)" } ?? ""))
        if answer.decisions.isEmpty {
            lines.append("  no decision recorded: the customer has not been in the campaign's segment on any pass"
                         + " (or the campaign has not run yet); `ciclo segment count` shows who is in it")
        }
        for d in answer.decisions {
            var line = "  occasion \(d.occasion): \(d.outcome)"
            if let reason = d.reason { line += " (\(reason))" }
            line += ", due \(timestamp(d.dueAt)), decided \(timestamp(d.decidedAt))"
            if let variant = d.variant, ["queued", "holdout", "global_holdout"].contains(d.outcome) {
                line += ", variant \(variant)"
            }
            if d.outcome == "queued" { line += ", delivery: \(d.delivery ?? "still queued")" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }
}

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Dry-run the scheduler over simulated time against the real data; nothing is sent or kept.",
        discussion: """
            Every tick applies all the rules as the live scheduler would, so cooldowns, caps and rotation see the
            simulated sends of earlier days. Everything runs in one transaction that is rolled back at the end.
            While it is open, the reporter's figures do not advance: it folds only outcomes older than every open
            transaction. Run long simulations on a copy of the database, or at a quiet hour.
            """)

    @Option(help: "The first simulated instant (RFC 3339 or a date).") var from: String
    @Option(help: "How many days to simulate.") var days = 30
    @Option(help: "Simulated time between ticks, such as 1h or 15m.") var step = "1h"
    @Option(help: "Output: table or csv.") var format = "table"

    func validate() throws {
        _ = try parseInstant(from, flag: "--from")
        _ = try parseDuration(step, flag: "--step")
        guard days > 0, days <= 3660 else { throw ValidationError("--days must be between 1 and 3660") }
        guard ["table", "csv"].contains(format) else { throw ValidationError("--format must be table or csv") }
    }

    func run() async throws {
        try await UserError.reporting {
            let environment = CicloEnvironment()
            try environment.bootstrapLogging()
            let logger = Logger(label: "ciclo.simulate")
            let conn = try await PostgresConnection.connect(
                configuration: try environment.database(applicationName: "ciclo-simulate"), logger: logger)
            let rows = try await Simulator(logger: logger).run(
                from: try parseInstant(from, flag: "--from"), days: days, step: try parseDuration(step, flag: "--step"),
                on: conn,
                progress: { now, _ in
                    if Calendar.current.component(.hour, from: now) == 0 {
                        FileHandle.standardError.write(Data("simulating \(WhyReport.timestamp(now))\n".utf8))
                    }
                })
            print(SimulationTable.render(rows, csv: format == "csv"))
            await conn.close()
        }
    }
}

/// The simulation report: one line per day, campaign, outcome and reason.
enum SimulationTable {
    static func render(_ rows: [Simulator.Row], csv: Bool) -> String {
        let header = ["day", "campaign", "outcome", "reason", "count"]
        let cells = rows.map { [$0.day, $0.campaign, $0.outcome, $0.reason ?? "", String($0.count)] }
        if csv { return ([header] + cells).map { $0.joined(separator: ",") }.joined(separator: "\n") }
        if rows.isEmpty { return "nothing would have been sent or suppressed" }
        let widths = header.indices.map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
        return ([header] + cells).map { row in
            row.enumerated().map { index, cell in
                index == 4 ? String(repeating: " ", count: widths[index] - cell.count) + cell
                    : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
