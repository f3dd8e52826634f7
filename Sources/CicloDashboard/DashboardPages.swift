import CicloReports

/// Builds the dashboard's pages from a report and its daily series. Pure, so what a page shows for given
/// figures is tested without a server.
public enum DashboardPages {
    /// The programme: headline KPIs, every campaign, coverage by stage, the automated/manual mix, objectives.
    public static func overview(_ report: Report, series: DailySeries, period: String) -> DashboardPage {
        let totals = sum(detail(report.lines))
        var charts = [series.volumeChart.svg, series.engagementChart.svg, series.conversionChart.svg]
        var statements: [String] = []
        if let coverage = report.coverage {
            charts.append(BarChart(
                title: "Coverage by stage: reachable active customers contacted", measures: ["coverage"],
                bars: coverage.map { .init(label: $0.stage, values: [$0.rate ?? 0]) }, format: .rate).svg)
        }
        if let mix = report.mix, let share = mix.automatedShare {
            charts.append(BarChart(
                title: "Automated vs manual sends", measures: ["actual", "target"],
                bars: [
                    .init(label: "automated", values: [share, mix.target]),
                    .init(label: "manual", values: [1 - share, 1 - mix.target]),
                ], format: .rate).svg)
            statements.append(
                "Automated campaigns sent \(Display.percent(share)) of messages against a target of "
                    + "\(Display.percent(mix.target)): \(mix.onTarget == true ? "on target" : "below target").")
        }
        var tables = [campaignTable(report.lines)]
        if let objectives = report.objectives { tables.append(objectiveTable(objectives)) }
        return DashboardPage(
            title: "Programme overview", period: period, navigation: navigation(report),
            cards: cards(totals), statements: statements, charts: charts, tables: tables)
    }

    /// One campaign: its KPIs, the uplift over its holdout, its days, and its lines by variant, channel, stage.
    public static func campaign(_ key: String, _ report: Report, series: DailySeries, period: String)
        -> DashboardPage
    {
        let lines = detail(report.lines)
        let totals = sum(lines)
        let kpis = KPIs(totals)
        let statement = kpis.uplift.map { "Uplift: this campaign \($0.statement)." }
            ?? "No holdout members in this period, so there is no uplift to measure."
        let uplift = BarChart(
            title: "Conversion rate, treated vs holdout", measures: ["treated", "holdout"],
            bars: [.init(label: key, values: [kpis.uplift?.treatedRate ?? 0, kpis.uplift?.holdoutRate ?? 0])],
            format: .rate)
        let table = DashboardPage.Table(
            title: "By variant, channel and stage",
            headers: ["variant", "channel", "stage", "sent", "open rate", "CTR", "conversion rate", "unsubscribes"],
            rows: lines.map { line in
                [
                    .init(line.variant ?? "-"), .init(line.channel ?? "-"),
                    .init(line.stage ?? "-", href: line.stage.map { "/stages/\($0)" }),
                    .init(Display.count(Double(line.figures.sent))), .init(rate(line.kpis.openRate)),
                    .init(rate(line.kpis.clickThroughRate)), .init(rate(line.kpis.conversionRate)),
                    .init(Display.count(Double(line.figures.unsubscribes))),
                ]
            })
        return DashboardPage(
            title: "Campaign \(key)", period: period, navigation: [.init(title: "Overview", href: "/")],
            cards: cards(totals), statements: [statement],
            charts: [series.volumeChart.svg, series.engagementChart.svg, series.conversionChart.svg, uplift.svg],
            tables: [table])
    }

    /// One lifecycle stage: its objective against the actual, coverage, the campaigns serving it, transitions
    /// into it and its cohorts' retention.
    public static func stage(_ key: String, _ report: Report, series: DailySeries, period: String) -> DashboardPage {
        let totals = sum(detail(report.lines))
        var cards = [DashboardPage.Card]()
        if let objective = report.objectives?.first(where: { $0.stage == key }) {
            cards.append(.init(
                label: "objective: \(objective.kpi)", value: objective.actual.map { figure($0, like: objective.target) } ?? "-",
                note: "target \(figure(objective.target, like: objective.target)) · \(objective.basis)"))
        }
        if let coverage = report.coverage?.first(where: { $0.stage == key }) {
            cards.append(.init(
                label: "coverage", value: rate(coverage.rate),
                note: "\(Display.count(Double(coverage.contacted))) of \(Display.count(Double(coverage.reachable))) reachable"))
        }
        var tables = [campaignTable(report.lines)]
        if let transitions = report.transitions {
            tables.append(.init(
                title: "Stage transitions", headers: ["from", "to", "customers"],
                rows: transitions.map { [.init($0.from ?? "(none)"), .init($0.to), .init(Display.count(Double($0.customers)))] }))
        }
        if let cohorts = report.cohorts, !cohorts.isEmpty {
            let weeks = Array(Set(cohorts.flatMap { $0.retained.keys })).sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }
            tables.append(.init(
                title: "Retention by weekly cohort", headers: ["week entered", "customers"] + weeks.map { "week \($0)" },
                rows: cohorts.map { cohort in
                    [.init(cohort.week), .init(Display.count(Double(cohort.entered)))]
                        + weeks.map { .init(rate(cohort.retained[$0] ?? nil)) }
                }))
        }
        return DashboardPage(
            title: "Stage \(key)", period: period, navigation: [.init(title: "Overview", href: "/")],
            cards: cards + self.cards(totals), charts: [series.volumeChart.svg, series.engagementChart.svg, series.conversionChart.svg],
            tables: tables)
    }

    /// The report's lines without the per-campaign totals it adds, so that summing never counts a line twice.
    static func detail(_ lines: [Report.Line]) -> [Report.Line] { lines.filter { !$0.total } }

    static func sum(_ lines: [Report.Line]) -> Figures { lines.reduce(Figures()) { $0 + $1.figures } }

    static func cards(_ figures: Figures) -> [DashboardPage.Card] {
        let kpis = KPIs(figures)
        return [
            .init(label: "sent", value: Display.count(Double(figures.sent))),
            .init(label: "delivered", value: Display.count(Double(kpis.delivered)), note: "bounce rate \(rate(kpis.bounceRate))"),
            .init(label: "open rate", value: rate(kpis.openRate), note: "machine opens apart: \(rate(kpis.machineOpenRate))"),
            .init(label: "CTR", value: rate(kpis.clickThroughRate), note: "click-to-open \(rate(kpis.clickToOpenRate))"),
            .init(label: "conversion rate", value: rate(kpis.conversionRate),
                  note: "revenue per send \(kpis.revenuePerSend.map(Display.money) ?? "-")"),
            .init(label: "unsubscribe rate", value: rate(kpis.unsubscribeRate)),
        ]
    }

    static func campaignTable(_ lines: [Report.Line]) -> DashboardPage.Table {
        // A campaign's own total line when it has several, else its only line.
        var rows: [String: Report.Line] = [:]
        var order: [String] = []
        for line in lines {
            if rows[line.campaign] == nil { order.append(line.campaign) }
            if line.total || rows[line.campaign] == nil { rows[line.campaign] = line }
        }
        return .init(
            title: "Campaigns",
            headers: ["campaign", "kind", "sent", "open rate", "CTR", "conversion rate", "uplift"],
            rows: order.compactMap { rows[$0] }.map { line in
                [
                    .init(line.campaign, href: "/campaigns/\(line.campaign)"), .init(line.kind ?? "-"),
                    .init(Display.count(Double(line.figures.sent))), .init(rate(line.kpis.openRate)),
                    .init(rate(line.kpis.clickThroughRate)), .init(rate(line.kpis.conversionRate)),
                    .init(line.kpis.uplift?.statement ?? "no holdout"),
                ]
            })
    }

    static func objectiveTable(_ objectives: [Report.Objective]) -> DashboardPage.Table {
        .init(
            title: "Stage objectives", headers: ["stage", "KPI", "target", "actual", "met"],
            rows: objectives.map { objective in
                [
                    .init(objective.stage, href: "/stages/\(objective.stage)"), .init(objective.kpi),
                    .init(figure(objective.target, like: objective.target)),
                    .init(objective.actual.map { figure($0, like: objective.target) } ?? "-"),
                    .init(objective.met.map { $0 ? "yes" : "no" } ?? "-"),
                ]
            })
    }

    static func navigation(_ report: Report) -> [DashboardPage.Link] {
        [.init(title: "Overview", href: "/")]
            + (report.objectives ?? []).map { .init(title: $0.stage, href: "/stages/\($0.stage)") }
    }

    static func rate(_ value: Double?) -> String { value.map(Display.percent) ?? "-" }

    /// A stage target is a rate (at most 1) or a count; its actual is written the same way.
    static func figure(_ value: Double, like target: Double) -> String {
        target <= 1 ? Display.percent(value) : Display.count(value)
    }
}
