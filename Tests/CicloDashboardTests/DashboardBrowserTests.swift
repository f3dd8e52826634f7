import CicloTestSupport
import Foundation
import Postgres
import Testing

/// The dashboard as a person sees it: a real `ciclo reporter` over a database with known rollups, its pages
/// loaded by headless Chromium (Debian's `chromium`, installed by scripts/deps.sh), the DOM checked for the
/// charts and the figures, and a screenshot saved under .ciclo/screenshots/.
@Suite("dashboard in a browser", .serialized)
struct DashboardBrowserTests {
    static let period = "from=2026-11-01&to=2026-11-03"

    @Test("the overview, a campaign and a stage: charts drawn, figures right, screenshots saved")
    func pages() async throws {
        try await Self.withReporter { port in
            let overview = try await Self.dom(port: port, path: "/?\(Self.period)")
            // Four charts of days (sends, engagement, conversion) plus coverage and the mix.
            #expect(Self.count("<svg class=\"chart line\"", in: overview) == 3)
            #expect(Self.count("<svg class=\"chart bar\"", in: overview) == 2)
            // welcome: 3 days x 400 (variant a) + 434 (variant b); flash: 100.
            #expect(overview.contains("<div class=\"value\">1,734</div>"))
            // Human clicks 3 x 40 + 60 + 10 = 190 over delivered 1,734 - 34 bounced = 1,700: 11.2%.
            #expect(overview.contains("<div class=\"label\">CTR</div><div class=\"value\">11.2%</div>"))
            #expect(overview.contains("href=\"/campaigns/welcome\""))
            #expect(overview.contains("Automated campaigns sent 94.2% of messages"))
            // Every day of the period is on the axis.
            #expect(overview.contains(">2026-11-01</text>") && overview.contains(">2026-11-03</text>"))

            let campaign = try await Self.dom(port: port, path: "/campaigns/welcome?\(Self.period)")
            #expect(Self.count("<svg class=\"chart", in: campaign) == 4)
            #expect(Self.count("<polyline class=\"series", in: campaign) == 7)
            // Treated 160 / 1,634 = 9.8% against holdout 3 / 150 = 2.0%: significant.
            #expect(campaign.contains("Uplift: this campaign converts +7.79 points more than its holdout"))
            #expect(campaign.contains("<td>b</td><td>email</td>"))

            let stage = try await Self.dom(port: port, path: "/stages/new?\(Self.period)")
            #expect(stage.contains("<h1>Stage new</h1>"))
            #expect(stage.contains("objective: activation_rate"))
            #expect(Self.count("<svg class=\"chart line\"", in: stage) == 3)

            for (name, path) in [("overview", "/"), ("campaign", "/campaigns/welcome")] {
                let png = try Self.screenshot(port: port, path: "\(path)?\(Self.period)", name: name)
                let data = try Data(contentsOf: png)
                // A PNG of the window's size, and not a blank page (which compresses to a few hundred bytes).
                #expect(data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
                #expect(Self.bigEndian(data, at: 16) == 1280 && Self.bigEndian(data, at: 20) == 1600)
                #expect(data.count > 30_000, "\(png.path) is \(data.count) bytes")
            }
        }
    }

    @Test("bad periods and unknown campaigns or stages get a page that says so")
    func badInput() async throws {
        try await Self.withReporter { port in
            for (path, status, message) in [
                ("/?from=2026-13-01", 400, "from must be a day written YYYY-MM-DD, not &quot;2026-13-01&quot;"),
                ("/?from=2026-11-05&to=2026-11-01", 400, "from (2026-11-05) is after to (2026-11-01)"),
                ("/?from=2024-01-01&to=2026-01-01", 400, "longer than 366 days"),
                ("/campaigns/nope", 404, "no campaign has the key &quot;nope&quot;"),
                ("/stages/nope", 404, "no lifecycle stage is named &quot;nope&quot;"),
            ] {
                let reply = try await HTTPExchange.send("GET", path, port: port)
                #expect(reply.status == status, "\(path)")
                #expect(reply.text.contains(message), "\(path): \(reply.text.suffix(400))")
            }
        }
    }

    // MARK: The world

    /// A migrated database with two campaigns' rollups over three days, and a reporter (no folding: the rollups
    /// are the dashboard's input here; the fold is tested in CicloReportsTests).
    static func withReporter(_ body: (Int) async throws -> Void) async throws {
        let db = try await MigrationDatabase.migrated()
        var failure: (any Error)?
        do {
            let conn = try await db.connect()
            try await conn.query(seedSQL)
            await conn.close()
            let reporter = try CicloRun.start(
                ["reporter", "--port", "0", "--no-aggregate"], url: db.url,
                environment: ["CICLO_TOKEN_SECRET": "dashboard-test-secret-\(UUID().uuidString)"])
            do { try await body(try await reporter.listeningPort()) } catch { failure = error }
            reporter.stop()
        } catch { failure = error }
        await db.drop()
        if let failure { throw failure }
    }

    static let seedSQL = """
        WITH c AS (
            INSERT INTO campaigns (key, name, kind, channel, status, stage, definition) VALUES
                ('welcome', 'Welcome series', 'recurring', 'email', 'active', 'new', '{}'),
                ('flash', 'Flash sale', 'adhoc', 'email', 'active', 'active', '{}')
            RETURNING id, key)
        INSERT INTO report_rollups (campaign_id, variant, channel, stage, day, sent, bounced_hard, opens,
                                    machine_opens, clicks, converted, conversions, revenue, held_out,
                                    holdout_converted)
        SELECT c.id, v.variant, 'email', v.stage, v.day::date, v.sent, v.bounced, v.opens, v.machine, v.clicks,
               v.converted, v.converted, v.converted * 25, v.held, v.held_converted
        FROM (VALUES
            ('welcome', 'a', 'new', '2026-11-01', 400, 8, 120, 30, 40, 40, 50, 1),
            ('welcome', 'a', 'new', '2026-11-02', 400, 8, 110, 25, 40, 40, 50, 1),
            ('welcome', 'a', 'new', '2026-11-03', 400, 8, 100, 20, 40, 40, 50, 1),
            ('welcome', 'b', 'new', '2026-11-02', 434, 8, 150, 35, 60, 40, 0, 0),
            ('flash', 'a', 'active', '2026-11-03', 100, 2, 30, 5, 10, 3, 0, 0)
        ) AS v(campaign, variant, stage, day, sent, bounced, opens, machine, clicks, converted, held, held_converted)
        JOIN c ON c.key = v.campaign
        """

    // MARK: Chromium

    struct ChromiumFailed: Error, CustomStringConvertible {
        var status: Int32
        var arguments: [String]
        var description: String { "chromium \(arguments.joined(separator: " ")) exited \(status)" }
    }

    static func chromium(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // --no-sandbox: the tests may run as root, where Chromium's sandbox refuses to start.
        process.arguments = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                             "--timeout=15000"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ChromiumFailed(status: process.terminationStatus, arguments: arguments)
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func dom(port: Int, path: String) async throws -> String {
        try chromium(["--dump-dom", "http://127.0.0.1:\(port)\(path)"])
    }

    static func screenshot(port: Int, path: String, name: String) throws -> URL {
        let directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            .appendingPathComponent(".ciclo/screenshots")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("dashboard-\(name).png")
        try? FileManager.default.removeItem(at: file)
        _ = try chromium(["--window-size=1280,1600", "--screenshot=\(file.path)", "http://127.0.0.1:\(port)\(path)"])
        return file
    }

    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    static func bigEndian(_ data: Data, at offset: Int) -> Int {
        data[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
    }
}
