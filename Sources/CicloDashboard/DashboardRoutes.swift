import CicloReporter
import CicloReports
import Foundation
import Hummingbird
import Postgres

/// The dashboard's pages on the reporter's server: `/` (the programme), `/campaigns/{key}` and `/stages/{key}`,
/// each for `?from=YYYY-MM-DD&to=YYYY-MM-DD` (default: the last 30 days). Read-only, from the rollups.
public struct DashboardRoutes: ReporterRoutes {
    public init() {}

    public func register(on router: Router<BasicRequestContext>, database: ConnectionPool) {
        router.get("/") { request, _ in
            try await page(request, database) { period, conn in
                let report = try await ReportStore().load(period.scope(), on: conn)
                let series = try await DailySeries.load(
                    campaign: nil, stage: nil, from: period.from, to: period.to, on: conn)
                return DashboardPages.overview(report, series: series, period: period.description)
            }
        }
        router.get("/campaigns/:key") { request, context in
            let key = context.parameters.get("key") ?? ""
            return try await page(request, database) { period, conn in
                let report = try await ReportStore().load(period.scope(campaign: key), on: conn)
                let series = try await DailySeries.load(
                    campaign: key, stage: nil, from: period.from, to: period.to, on: conn)
                return DashboardPages.campaign(key, report, series: series, period: period.description)
            }
        }
        router.get("/stages/:key") { request, context in
            let key = context.parameters.get("key") ?? ""
            return try await page(request, database) { period, conn in
                let report = try await ReportStore().load(period.scope(stage: key), on: conn)
                let series = try await DailySeries.load(
                    campaign: nil, stage: key, from: period.from, to: period.to, on: conn)
                return DashboardPages.stage(key, report, series: series, period: period.description)
            }
        }
    }

    /// Reads the period, builds the page on one connection, and turns the errors a person can fix (a bad date,
    /// an unknown campaign or stage) into a 400 or 404 page that says so.
    func page(
        _ request: Request, _ database: ConnectionPool,
        _ build: @Sendable @escaping (Period, PostgresConnection) async throws -> DashboardPage
    ) async throws -> Response {
        let period: Period
        do {
            period = try Period(
                from: request.uri.queryParameters.get("from"), to: request.uri.queryParameters.get("to"), now: Date())
        } catch {
            return Replies.html(.badRequest, DashboardPage(title: "Bad period", period: error.description).html)
        }
        do {
            let page = try await database.withConnection { conn in try await build(period, conn) }
            return Replies.html(.ok, page.html)
        } catch let error as ReportError {
            return Replies.html(.notFound, DashboardPage(title: "Not found", period: error.description).html)
        }
    }
}

/// The days a page covers, both inclusive, as YYYY-MM-DD in UTC (the rollups' days).
struct Period: Sendable, Equatable {
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    var from: String
    var to: String

    static let defaultDays = 30

    init(from: String?, to: String?, now: Date) throws(Invalid) {
        var end = UTCDay.start(of: now)
        if let to { end = try Self.parse(to, name: "to") }
        var start = end.addingTimeInterval(-Double(Self.defaultDays - 1) * 86_400)
        if let from { start = try Self.parse(from, name: "from") }
        guard start <= end else { throw Invalid(description: "from (\(UTCDay.text(start))) is after to (\(UTCDay.text(end)))") }
        guard end.timeIntervalSince(start) <= 366 * 86_400 else {
            throw Invalid(description: "the period is longer than 366 days; choose a shorter one")
        }
        self.from = UTCDay.text(start)
        self.to = UTCDay.text(end)
    }

    var description: String { "\(from) to \(to) (UTC days)" }

    func scope(campaign: String? = nil, stage: String? = nil) -> Report.Scope {
        Report.Scope(campaign: campaign, stage: stage, from: from, to: to)
    }

    static func parse(_ text: String, name: String) throws(Invalid) -> Date {
        guard let date = UTCDay.parse(text) else {
            throw Invalid(description: "\(name) must be a day written YYYY-MM-DD, not \"\(text)\"")
        }
        return date
    }
}
