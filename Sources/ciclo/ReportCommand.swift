import ArgumentParser
import CicloReports
import Foundation
import Logging
import Postgres

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Campaign KPIs from the rollups; --verify recounts the rollups from the raw tables.",
        discussion: """
            Figures are filed under the day (UTC) of the send they belong to. Without --campaign the report adds
            coverage by stage, the automated/manual mix, stage objectives, stage transitions and cohort retention.
            --verify exits 0 when every bucket matches its recount and 1 otherwise, listing the differences.
            """)

    @Option(help: "Only this campaign (its key).") var campaign: String?
    @Option(help: "Only sends made while the customer was in this stage.") var stage: String?
    @Option(help: "First day, YYYY-MM-DD (UTC).") var from: String?
    @Option(help: "Last day, YYYY-MM-DD (UTC), inclusive.") var to: String?
    @Option(help: "table, csv or json.") var format = "table"
    @Option(help: "Coverage: a send within this many days counts as contacted.") var coverageDays = 30
    @Option(help: "Coverage: customers seen within this many days are active.") var activeDays = 90
    @Flag(help: "Recount every rollup from the raw tables and compare (see README: retention).") var verify = false

    func validate() throws {
        guard ReportRenderer.Format(rawValue: format) != nil else {
            throw ValidationError("--format must be table, csv or json, not \(format)")
        }
        let first = try from.map { try Self.day($0, flag: "--from") }
        let last = try to.map { try Self.day($0, flag: "--to") }
        if let first, let last, first > last {
            throw ValidationError("--from \(from!) is after --to \(to!)")
        }
        guard (1...3660).contains(coverageDays) else { throw ValidationError("--coverage-days must be 1 to 3660") }
        guard (1...3660).contains(activeDays) else { throw ValidationError("--active-days must be 1 to 3660") }
        if verify && (campaign != nil || stage != nil) {
            throw ValidationError("--verify recounts every campaign and stage; drop --campaign and --stage")
        }
    }

    /// A calendar day, strictly YYYY-MM-DD.
    static func day(_ text: String, flag: String) throws -> Date {
        guard let date = UTCDay.parse(text) else {
            throw ValidationError("\(flag) \(text) is not a day such as 2026-01-31")
        }
        return date
    }

    func run() async throws {
        try await UserError.reporting {
            let environment = CicloEnvironment()
            try environment.bootstrapLogging()
            let logger = Logger(label: "ciclo.report")
            let conn = try await PostgresConnection.connect(
                configuration: try environment.database(applicationName: "ciclo-report"), logger: logger)
            if verify {
                let result = try await Verifier().verify(from: from, to: to, on: conn)
                await conn.close()
                print(VerifyReport.render(result))
                if !result.matches { throw ExitCode(1) }
                return
            }
            let scope = Report.Scope(
                campaign: campaign, stage: stage, from: from, to: to, coverageDays: coverageDays,
                activeDays: activeDays)
            do {
                let report = try await ReportStore().load(scope, on: conn)
                await conn.close()
                print(try ReportRenderer.render(report, as: ReportRenderer.Format(rawValue: format)!))
            } catch let error as ReportError {
                throw UserError(
                    description: error.description.prefix(1).uppercased() + error.description.dropFirst()
                        + ".", exitCode: 66)
            }
        }
    }
}

/// Plain-text rendering of `ciclo report --verify`.
enum VerifyReport {
    static func render(_ result: Verifier.Result) -> String {
        let range = "days \(result.from ?? "(first)") to \(result.to ?? "(last)")"
        var lines = [
            "verify: \(range): \(result.buckets) rollup buckets, \(result.sent) sent, \(result.responses) responses, "
                + "\(result.conversions) conversions, \(result.heldOut) held out"
        ]
        if result.from != nil {
            lines.append("days before \(result.from!) are not compared (raw rows dropped by retention, or --from)")
        }
        if result.matches {
            lines.append("match: every rollup equals its recount from the raw tables")
            return lines.joined(separator: "\n")
        }
        lines.append("MISMATCH in \(result.mismatches.count) buckets (raw recount vs rollup):")
        for m in result.mismatches.prefix(50) {
            let key =
                "campaign \(m.campaignID.map(String.init) ?? "-") variant \(m.variant ?? "-") "
                + "channel \(m.channel ?? "-") stage \(m.stage ?? "-") day \(m.day)"
            let figures = m.figures.map { "\($0.name) \($0.raw) vs \($0.rollup)" }.joined(separator: ", ")
            lines.append("  \(key): \(figures)")
        }
        if result.mismatches.count > 50 { lines.append("  ... and \(result.mismatches.count - 50) more") }
        return lines.joined(separator: "\n")
    }
}
