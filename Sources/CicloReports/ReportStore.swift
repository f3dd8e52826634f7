import Foundation
import Postgres

/// A report asked for something that is not there.
public struct ReportError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: Sendable { case unknownCampaign, unknownStage }
    public var code: Code
    public var description: String
}

/// Reads a Report: the campaign lines from the rollups (the only part a campaign report needs, served by
/// report_rollups_key), and for the overview the live figures from customers, deliveries and stage_transitions.
public struct ReportStore: Sendable {
    public init() {}

    static let campaignSQL = "SELECT id FROM campaigns WHERE key = $1"
    static let stageSQL = """
        SELECT EXISTS (SELECT 1 FROM lifecycle_stages WHERE key = $1)
            OR EXISTS (SELECT 1 FROM customers WHERE stage = $1)
        """

    /// Rollups summed over the days, per campaign, variant, channel and stage. $1 campaign id, $2 stage, $3 first
    /// day, $4 last day (each null: any).
    static var linesSQL: String {
        let sums = Attribution.allColumns.map { "sum(r.\($0))::text" }.joined(separator: ", ")
        return """
            SELECT coalesce(k.key, '(none)'), k.kind, r.variant, r.channel, r.stage, \(sums)
            FROM report_rollups r LEFT JOIN campaigns k ON k.id = r.campaign_id
            WHERE ($1::int8 IS NULL OR r.campaign_id = $1::int8) AND ($2::text IS NULL OR r.stage = $2::text)
              AND ($3::date IS NULL OR r.day >= $3::date) AND ($4::date IS NULL OR r.day <= $4::date)
            GROUP BY 1, 2, 3, 4, 5
            ORDER BY 1, 3 NULLS FIRST, 4 NULLS FIRST, 5 NULLS FIRST
            """
    }

    /// Reads the report for `scope`; `now` anchors coverage and cohorts when the scope has no end day.
    public func load(_ scope: Report.Scope, now: Date = Date(), on conn: PostgresConnection) async throws -> Report {
        try await conn.withTransaction(.init(isolation: .repeatableRead, readOnly: true)) { conn in
            var campaignID: Int64?
            if let key = scope.campaign {
                guard let id = try await conn.query(Self.campaignSQL, [key]).first?.decode(Int64.self, at: 0) else {
                    throw ReportError(
                        code: .unknownCampaign,
                        description: "no campaign has the key \"\(key)\"; `ciclo campaign list` shows the keys")
                }
                campaignID = id
            }
            if let stage = scope.stage, !(try await conn.query(Self.stageSQL, [stage]).scalar(Bool.self)) {
                throw ReportError(
                    code: .unknownStage,
                    description: "no lifecycle stage is named \"\(stage)\"; `ciclo config show` lists the stages")
            }
            let rows = try await conn.query(Self.linesSQL, [campaignID, scope.stage, scope.from, scope.to])
            let lines = try Self.withTotals(
                rows.map { row in
                    let figures = Figures(
                        columns: try (0..<Attribution.allColumns.count).map {
                            try row.decode(String?.self, at: 5 + $0) ?? "0"
                        })
                    return Report.Line(
                        campaign: try row.decode(at: 0), kind: try row.decode(at: 1), variant: try row.decode(at: 2),
                        channel: try row.decode(at: 3), stage: try row.decode(at: 4), total: false, figures: figures,
                        kpis: KPIs(figures))
                })
            var report = Report(scope: scope, lines: lines)
            if scope.campaign == nil {
                try await Overview(scope: scope, now: now).load(into: &report, on: conn)
            }
            return report
        }
    }

    /// Adds a total line after each campaign's lines when it has more than one.
    static func withTotals(_ lines: [Report.Line]) throws -> [Report.Line] {
        var out: [Report.Line] = []
        var index = 0
        while index < lines.count {
            let campaign = lines[index].campaign
            let group = lines[index...].prefix { $0.campaign == campaign }
            out += group
            if group.count > 1 {
                let figures = group.map(\.figures).reduce(Figures(), +)
                out.append(
                    Report.Line(
                        campaign: campaign, kind: group.first?.kind, variant: nil, channel: nil, stage: nil,
                        total: true,
                        figures: figures, kpis: KPIs(figures)))
            }
            index += group.count
        }
        return out
    }
}
