import Testing

@testable import CicloDashboard

@Suite("dashboard charts")
struct ChartTests {
    @Test("a line chart draws one polyline per series, with every point inside the plot")
    func lineChart() throws {
        let chart = LineChart(
            title: "Sends per day", labels: ["2026-11-01", "2026-11-02", "2026-11-03"],
            series: [.init(name: "sent", values: [10, 40, 25]), .init(name: "delivered", values: [9, 38, 25])])
        let svg = chart.svg
        #expect(svg.hasPrefix("<svg class=\"chart line\""))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
        // The axis tops out at the next round number above the largest value (40 -> 50).
        #expect(svg.contains(">50</text>"))
        #expect(svg.contains(">2026-11-01</text>") && svg.contains(">2026-11-03</text>"))
        let points = try #require(svg.firstMatch(of: /points="([^"]+)"/)).1
        let ys = points.split(separator: " ").compactMap { Double($0.split(separator: ",")[1]) }
        #expect(ys.count == 3)
        // The highest value is nearest the top; every point lies between the plot's top and its x axis.
        #expect(ys[1] < ys[2] && ys[2] < ys[0])
        #expect(ys.allSatisfy { $0 >= LineChart.margin.top && $0 <= LineChart.height - LineChart.margin.bottom })
    }

    @Test("rates are drawn on a percentage axis with a round top")
    func rateAxis() {
        let chart = LineChart(
            title: "CTR", labels: ["a", "b"], series: [.init(name: "ctr", values: [0.012, 0.034])], format: .rate)
        #expect(chart.niceCeiling(0.034) == 0.05)
        #expect(chart.svg.contains(">5.00%</text>"))
    }

    @Test("no data says so instead of drawing empty axes")
    func empty() {
        let svg = LineChart(title: "Nothing", labels: [], series: []).svg
        #expect(svg.contains("No data in this period"))
        #expect(!svg.contains("<polyline"))
        #expect(BarChart(title: "Nothing", measures: ["a"], bars: []).svg.contains("No data in this period"))
    }

    @Test("names from data are escaped in charts")
    func escaping() {
        let svg = BarChart(
            title: "<b>t</b>", measures: ["treated"], bars: [.init(label: "<script>x</script>", values: [1])]
        ).svg
        #expect(!svg.contains("<script>"))
        #expect(svg.contains("&lt;script&gt;x&lt;/script&gt;"))
        #expect(svg.contains("<title>&lt;b&gt;t&lt;/b&gt;</title>"))
    }

    @Test("a bar chart draws a bar per category and measure, longest for the largest value")
    func barChart() throws {
        let chart = BarChart(
            title: "Conversion", measures: ["treated", "holdout"],
            bars: [.init(label: "welcome", values: [0.08, 0.05]), .init(label: "winback", values: [0.02, 0.02])],
            format: .rate)
        let svg = chart.svg
        let widths = svg.matches(of: /<rect class="bar[^"]*" x="[^"]+" y="[^"]+" width="([^"]+)"/).compactMap {
            Double($0.1)
        }
        #expect(widths.count == 4)
        #expect(widths[0] == widths.max())
        #expect(svg.contains(">8.00%</text>") && svg.contains(">5.00%</text>"))
    }

    @Test("figures are written as people read them")
    func figures() {
        #expect(Display.count(1_234_567) == "1,234,567")
        #expect(Display.count(999) == "999")
        #expect(Display.count(-1000) == "-1,000")
        #expect(Display.percent(0.0345) == "3.45%")
        #expect(Display.percent(0.5) == "50.0%")
        #expect(Display.percent(0) == "0.0%")
        #expect(Display.money(12.5) == "12.50")
    }
}
