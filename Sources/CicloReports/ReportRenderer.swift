import Foundation

/// Renders a Report: an aligned terminal table (the default), CSV (one block per section, a blank line between),
/// or JSON (the Report itself, keys only ever added).
public enum ReportRenderer {
    public enum Format: String, Sendable, CaseIterable { case table, csv, json }

    /// A titled grid of cells; numeric columns are right-aligned in tables.
    struct Section {
        var title: String
        var header: [String]
        var rows: [[String]]
        var numeric: Set<Int>
    }

    public static func render(_ report: Report, as format: Format) throws -> String {
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(report), as: UTF8.self)
        case .csv:
            return sections(report).map { section in
                ([["section"] + section.header] + section.rows.map { [section.title] + $0 })
                    .map { $0.map(csvField).joined(separator: ",") }.joined(separator: "\n")
            }.joined(separator: "\n\n")
        case .table:
            return sections(report).map(table).joined(separator: "\n\n")
        }
    }

    static func sections(_ report: Report) -> [Section] {
        var out: [Section] = []
        let lines = report.lines.map { line -> [String] in
            let k = line.kpis
            return [
                line.campaign, line.total ? "(total)" : line.variant ?? "-", line.channel ?? "-", line.stage ?? "-",
                count(line.figures.sent), count(k.delivered), percent(k.bounceRate), percent(k.openRate),
                percent(k.machineOpenRate), percent(k.clickThroughRate), percent(k.clickToOpenRate),
                percent(k.conversionRate), money(k.revenuePerSend), percent(k.unsubscribeRate),
            ]
        }
        out.append(
            Section(
                title: "campaigns",
                header: [
                    "campaign", "variant", "channel", "stage", "sent", "delivered", "bounce", "open", "machine open",
                    "ctr", "click/open", "conversion", "revenue/send", "unsubscribe",
                ],
                rows: lines, numeric: Set(4...13)))
        let campaignTotals = report.lines.filter { line in
            line.total || report.lines.filter { $0.campaign == line.campaign }.count == 1
        }
        out.append(
            Section(
                title: "uplift",
                header: [
                    "campaign", "treated", "treated conv", "holdout", "holdout conv", "uplift", "95% ci", "verdict",
                ],
                rows: campaignTotals.map { line in
                    upliftRow(
                        line.campaign, sent: line.figures.sent, rate: line.kpis.conversionRate,
                        heldOut: line.figures.heldOut, uplift: line.kpis.uplift)
                } + programmeRow(campaignTotals), numeric: Set(1...6)))
        if let coverage = report.coverage {
            out.append(
                Section(
                    title: "coverage (last \(report.scope.coverageDays) days)",
                    header: ["stage", "reachable active", "contacted", "coverage"],
                    rows: coverage.map { [$0.stage, count($0.reachable), count($0.contacted), percent($0.rate)] },
                    numeric: [1, 2, 3]))
        }
        if let mix = report.mix {
            out.append(
                Section(
                    title: "mix",
                    header: ["automated sends", "manual sends", "automated share", "target", "on target"],
                    rows: [
                        [
                            count(mix.automatedSends), count(mix.manualSends), percent(mix.automatedShare),
                            percent(mix.target), mix.onTarget.map { $0 ? "yes" : "no" } ?? "-",
                        ]
                    ],
                    numeric: [0, 1, 2, 3]))
        }
        if let objectives = report.objectives {
            out.append(
                Section(
                    title: "objectives", header: ["stage", "kpi", "target", "actual", "met", "measured as"],
                    rows: objectives.map { o in
                        let isRate = o.target < 1
                        let show = { (v: Double?) in isRate ? percent(v) : v.map { count(Int($0.rounded())) } ?? "-" }
                        return [
                            o.stage, o.kpi, show(o.target), show(o.actual), o.met.map { $0 ? "yes" : "no" } ?? "-",
                            o.basis,
                        ]
                    }, numeric: [2, 3]))
        }
        if let transitions = report.transitions {
            out.append(
                Section(
                    title: "stage transitions", header: ["from", "to", "customers"],
                    rows: transitions.map { [$0.from ?? "(none)", $0.to, count($0.customers)] }, numeric: [2]))
        }
        if let cohorts = report.cohorts {
            out.append(
                Section(
                    title: "retention by cohort (share still in the stage)",
                    header: ["stage", "week", "entered", "1w", "2w", "4w", "8w"],
                    rows: cohorts.map { c in
                        [c.stage, c.week, count(c.entered)]
                            + ["1w", "2w", "4w", "8w"].map { percent(c.retained[$0] ?? nil) }
                    }, numeric: Set(2...6)))
        }
        return out
    }

    /// One line of the uplift section.
    static func upliftRow(
        _ label: String, sent: Int, rate: Double?, heldOut: Int, uplift: Uplift?
    ) -> [String] {
        guard let u = uplift else {
            return [
                label, count(sent), percent(rate), count(heldOut), "-", "-", "-",
                heldOut == 0 ? "no holdout to compare with" : "no sends to compare",
            ]
        }
        return [
            label, count(sent), percent(u.treatedRate), count(heldOut), percent(u.holdoutRate), points(u.difference),
            "\(points(u.lower)) to \(points(u.upper))", u.statement,
        ]
    }

    /// The programme against the global holdout: the sends of every campaign the global holdout was kept from,
    /// against those customers' would-have-received sends. Shown only when there is a global holdout.
    static func programmeRow(_ campaignTotals: [Report.Line]) -> [[String]] {
        let f = campaignTotals.map(\.figures).filter { $0.globalHeldOut > 0 }.reduce(Figures(), +)
        guard f.globalHeldOut > 0 else { return [] }
        let uplift = Uplift(
            treatedConverted: f.converted, treated: f.sent, holdoutConverted: f.globalHoldoutConverted,
            holdout: f.globalHeldOut)
        return [
            upliftRow(
                "all marketing vs global holdout", sent: f.sent, rate: KPIs(f).conversionRate,
                heldOut: f.globalHeldOut, uplift: uplift)
        ]
    }

    static func table(_ section: Section) -> String {
        let all = [section.header] + section.rows
        let widths = section.header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        let body = all.map { row in
            row.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                return section.numeric.contains(index) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        let empty = section.rows.isEmpty ? ["(nothing in this range)"] : []
        return ([section.title.uppercased(), body[0], rule] + body.dropFirst() + empty).joined(separator: "\n")
    }

    static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { grouped += "," }
            grouped.append(ch)
        }
        return (value < 0 ? "-" : "") + grouped
    }

    static func percent(_ value: Double?) -> String {
        value.map { String(format: "%.2f%%", $0 * 100) } ?? "-"
    }

    static func points(_ value: Double) -> String { String(format: "%+.2f pt", value * 100) }

    static func money(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "-" }

    static func csvField(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
