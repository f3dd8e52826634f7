import CicloReports
import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite(.serialized) struct ReportCommandTests {
    /// Two variants, opens human and machine, a campaign of each kind, stage moves: the table is aligned, the CSV
    /// and JSON carry the same figures, and the overview has every section.
    @Test func drawsTableCSVAndJSON() async throws {
        try await ReportFixture.with { f in
            let first = try await f.customers(200)
            let cycle = try await f.campaign("cycle", kind: "recurring")
            let flash = try await f.campaign("flash", kind: "adhoc")
            try await f.sends(campaign: cycle, key: "a", firstCustomer: first, count: 100, at: "2026-05-01T10:00:00Z")
            try await f.sends(
                campaign: cycle, key: "b", firstCustomer: first + 100, count: 70,
                at: "2026-05-02T10:00:00Z", variant: "B")
            try await f.sends(campaign: flash, key: "f", firstCustomer: first, count: 30, at: "2026-05-02T10:00:00Z")
            try await f.responses(
                campaign: cycle, key: "a", kind: "open", count: 100, every: 4, at: "2026-05-01T12:00:00Z")
            try await f.responses(
                campaign: cycle, key: "a", kind: "open", count: 100, every: 2, machine: true,
                at: "2026-05-01T10:00:05Z")
            try await f.responses(
                campaign: cycle, key: "a", kind: "click", count: 100, every: 10,
                at: "2026-05-01T12:00:00Z")
            try await f.responses(
                campaign: cycle, key: "a", kind: "bounce_hard", count: 100, every: 50,
                at: "2026-05-01T10:00:01Z")
            try await f.conn.query(
                """
                INSERT INTO stage_transitions (customer_id, from_stage, to_stage, rule, at)
                SELECT $1::int8 + g - 1, 'new', 'active', 'first_deposit', '2026-05-01T00:00:00Z'
                FROM generate_series(1, 10) g
                """, [first])
            #expect(try await f.ciclo(["aggregate", "--once"]).0 == 0)

            let (status, table, err) = try await f.ciclo(["report", "--from", "2026-05-01", "--to", "2026-05-31"])
            #expect(status == 0, "\(err)")
            let lines = table.split(separator: "\n").map(String.init)
            let header = try #require(lines.first { $0.hasPrefix("campaign ") })
            let rowA = try #require(lines.first { $0.hasPrefix("cycle ") && $0.contains(" A ") })
            // Right-aligned numbers end in the same column as their header.
            let sentEnd = try #require(header.range(of: "sent")).upperBound.utf16Offset(in: header)
            let aFields = rowA.split(separator: " ", omittingEmptySubsequences: true)
            #expect(aFields[4] == "100")
            #expect(rowA.range(of: " 100 ")!.lowerBound.utf16Offset(in: rowA) + 4 == sentEnd)
            // 100 sent, 2 hard bounces: 98 delivered; 25 human opens (25.51%), 50 machine (51.02%), 10 clicks.
            #expect(rowA.contains("98") && rowA.contains("2.00%") && rowA.contains("25.51%") && rowA.contains("51.02%"))
            #expect(rowA.contains("10.20%") && rowA.contains("40.00%"))
            #expect(table.contains("(total)"))
            for section in [
                "CAMPAIGNS", "UPLIFT", "COVERAGE (LAST 30 DAYS)", "MIX", "OBJECTIVES", "STAGE TRANSITIONS",
                "RETENTION BY COHORT",
            ] {
                #expect(table.contains(section), "no \(section) section")
            }
            // Mix: 170 automated of 200 sent is 85.00%, on target.
            #expect(
                lines.contains {
                    $0.contains("170") && $0.contains("30") && $0.contains("85.00%") && $0.hasSuffix("yes")
                })
            #expect(lines.contains { $0.hasPrefix("new ") && $0.contains("active") && $0.hasSuffix("10") })

            let (csvStatus, csv, _) = try await f.ciclo(["report", "--format", "csv", "--campaign", "cycle"])
            #expect(csvStatus == 0)
            #expect(csv.hasPrefix("section,campaign,variant,channel,stage,sent,"))
            #expect(csv.contains("campaigns,cycle,A,email,active,100,98,2.00%,25.51%,51.02%,10.20%,40.00%"))
            #expect(!csv.contains("coverage"))

            let json = try await f.report(["--campaign", "cycle", "--stage", "active"])
            #expect(json.lines.map(\.variant) == ["A", "B", nil])
            #expect(try json.campaign("cycle").figures.sent == 170)
            #expect(try json.campaign("cycle").figures.machineOpens == 50)
        }
    }

    @Test func badFlagsAndUnknownNamesAreClearErrors() async throws {
        try await ReportFixture.with { f in
            let cases: [([String], Int32, String)] = [
                (["report", "--format", "xml"], 64, "--format must be table, csv or json"),
                (["report", "--from", "2026-13-01"], 64, "--from 2026-13-01 is not a day such as 2026-01-31"),
                (["report", "--to", "yesterday"], 64, "--to yesterday is not a day"),
                (
                    ["report", "--from", "2026-05-02", "--to", "2026-05-01"], 64,
                    "--from 2026-05-02 is after --to 2026-05-01"
                ),
                (["report", "--verify", "--campaign", "x"], 64, "--verify recounts every campaign and stage"),
                (["report", "--coverage-days", "0"], 64, "--coverage-days must be 1 to 3660"),
                (["report", "--campaign", "nope"], 66, "No campaign has the key \"nope\""),
                (["report", "--stage", "limbo"], 66, "No lifecycle stage is named \"limbo\""),
                (["aggregate", "--chunk", "0"], 64, "--chunk must be between 1 and 10000000"),
            ]
            for (arguments, expected, message) in cases {
                let (status, out, err) = try await f.ciclo(arguments)
                #expect(status == expected, "\(arguments): \(status) \(err)")
                #expect(err.contains(message), "\(arguments): \(err)")
                #expect(out.isEmpty)
            }
            // An empty database reports, and verifies, without error.
            let (status, table, _) = try await f.ciclo(["report"])
            #expect(status == 0)
            #expect(table.contains("(nothing in this range)"))
            #expect(try await f.verify().0)
        }
    }
}
