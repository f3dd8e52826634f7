import Testing

@testable import CicloDashboard

@Suite("dashboard pages")
struct DashboardPageTests {
    let page = DashboardPage(
        title: "Welcome <series>", period: "2026-11-01 to 2026-11-07",
        navigation: [.init(title: "Overview", href: "/")],
        cards: [.init(label: "CTR", value: "3.2%", note: "machine clicks apart: 0.4%")],
        statements: ["The difference is not significant (95% interval -1.0 to +2.0 points)."],
        charts: [LineChart(title: "Sends", labels: ["d1", "d2"], series: [.init(name: "sent", values: [1, 2])]).svg],
        tables: [.init(
            title: "Variants", headers: ["variant", "sent"],
            rows: [[.init("a & b", href: "/campaigns/x?v=\"a\""), .init("1,000")]])])

    @Test("the page carries its title, cards, statements, charts and tables")
    func content() {
        let html = page.html
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.contains("<h1>Welcome &lt;series&gt;</h1>"))
        #expect(html.contains("<div class=\"value\">3.2%</div>"))
        #expect(html.contains("machine clicks apart: 0.4%"))
        #expect(html.contains("<p class=\"statement\">The difference is not significant"))
        #expect(html.contains("<svg class=\"chart line\""))
        #expect(html.contains("<th>variant</th><th>sent</th>"))
        #expect(html.contains("<a href=\"/\">Overview</a>"))
    }

    @Test("text from data is escaped, links included; only our SVG is inserted as is")
    func escaping() {
        let html = page.html
        #expect(html.contains(">a &amp; b</a>"))
        #expect(html.contains("href=\"/campaigns/x?v=&quot;a&quot;\""))
        #expect(!html.contains("<series>"))
        #expect(!html.contains("<script"))
    }

    @Test("a page with nothing in it still renders, without empty sections' markup")
    func emptyPage() {
        let html = DashboardPage(title: "Empty", period: "none").html
        #expect(html.contains("<h1>Empty</h1>"))
        #expect(!html.contains("<table>"))
        #expect(!html.contains("class=\"statement\""))
    }
}
