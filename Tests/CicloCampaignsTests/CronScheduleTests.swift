import CicloCampaigns
import Foundation
import Testing

/// An instant written in UTC, for readable expectations.
func utc(_ text: String) -> Date {
    ISO8601DateFormatter().date(from: text)!
}

func zone(_ name: String) -> TimeZone { TimeZone(identifier: name)! }

@Suite("cron schedules")
struct CronScheduleTests {
    func next(_ expression: String, after: String, in zoneName: String = "UTC") throws -> Date? {
        try CronSchedule.parse(expression).next(after: utc(after), in: zone(zoneName))
    }

    /// The successive slots after `after`.
    func slots(_ expression: String, after: String, in zoneName: String, count: Int) throws -> [Date] {
        let schedule = try CronSchedule.parse(expression)
        var result: [Date] = []
        var from = utc(after)
        for _ in 0..<count {
            guard let slot = schedule.next(after: from, in: zone(zoneName)) else { break }
            result.append(slot)
            from = slot
        }
        return result
    }

    @Test("plain fields, lists, ranges, steps and names")
    func fields() throws {
        #expect(try next("0 9 * * *", after: "2026-01-01T08:59:59Z") == utc("2026-01-01T09:00:00Z"))
        #expect(try next("0 9 * * *", after: "2026-01-01T09:00:00Z") == utc("2026-01-02T09:00:00Z"), "strictly after")
        #expect(try slots("*/20 8-9 * * *", after: "2026-01-01T00:00:00Z", in: "UTC", count: 7) == [
            "08:00", "08:20", "08:40", "09:00", "09:20", "09:40",
        ].map { utc("2026-01-01T\($0):00Z") } + [utc("2026-01-02T08:00:00Z")])
        #expect(try slots("5,35 10 * * *", after: "2026-01-01T10:05:00Z", in: "UTC", count: 2)
            == [utc("2026-01-01T10:35:00Z"), utc("2026-01-02T10:05:00Z")])
        #expect(try slots("10/20 * * * *", after: "2026-01-01T00:00:00Z", in: "UTC", count: 3)
            == [utc("2026-01-01T00:10:00Z"), utc("2026-01-01T00:30:00Z"), utc("2026-01-01T00:50:00Z")])
        // 2026-01-02 is a Friday; MON-FRI skips the weekend.
        #expect(try slots("0 9 * * MON-FRI", after: "2026-01-02T10:00:00Z", in: "UTC", count: 1)
            == [utc("2026-01-05T09:00:00Z")])
        #expect(try next("0 0 1 jun *", after: "2026-01-01T00:00:00Z") == utc("2026-06-01T00:00:00Z"))
        #expect(try next("0 0 * * 7", after: "2026-01-01T00:00:00Z") == utc("2026-01-04T00:00:00Z"), "7 is Sunday")
        #expect(try next("@daily", after: "2026-01-01T12:00:00Z") == utc("2026-01-02T00:00:00Z"))
        #expect(try next("0 0 29 2 *", after: "2026-03-01T00:00:00Z") == utc("2028-02-29T00:00:00Z"))
    }

    @Test("day of month and day of week: either matches when both are restricted")
    func orRule() throws {
        // The 13th or any Friday, from Thursday 2026-02-12: Friday the 13th, the 20th, the 27th, Friday 6 March.
        #expect(try slots("0 0 13 * FRI", after: "2026-02-12T00:00:00Z", in: "UTC", count: 4) == [
            "2026-02-13", "2026-02-20", "2026-02-27", "2026-03-06",
        ].map { utc("\($0)T00:00:00Z") })
        // With the weekday a star (a star with a step still counts as one), only the 13th.
        #expect(try slots("0 0 13 * */1", after: "2026-02-12T00:00:00Z", in: "UTC", count: 2)
            == [utc("2026-02-13T00:00:00Z"), utc("2026-03-13T00:00:00Z")])
        // With the day a star, only Fridays.
        #expect(try slots("0 0 * * 5", after: "2026-02-12T00:00:00Z", in: "UTC", count: 2)
            == [utc("2026-02-13T00:00:00Z"), utc("2026-02-20T00:00:00Z")])
    }

    @Test("a wall-clock time keeps its local hour across daylight saving changes")
    func wallClock() throws {
        // Lisbon is UTC+0 in winter, UTC+1 in summer (from 2026-03-29).
        #expect(try slots("0 9 * * *", after: "2026-03-28T00:00:00Z", in: "Europe/Lisbon", count: 2)
            == [utc("2026-03-28T09:00:00Z"), utc("2026-03-29T08:00:00Z")])
        // New York is UTC-5, then UTC-4 from 2026-03-08.
        #expect(try slots("0 9 * * *", after: "2026-03-07T00:00:00Z", in: "America/New_York", count: 2)
            == [utc("2026-03-07T14:00:00Z"), utc("2026-03-08T13:00:00Z")])
    }

    @Test("a local time skipped by the spring change runs at the jump, once")
    func springForward() throws {
        // Lisbon, 2026-03-29: at 01:00 UTC the clocks go from 01:00 to 02:00; 01:30 does not exist that night.
        #expect(try slots("30 1 * * *", after: "2026-03-28T12:00:00Z", in: "Europe/Lisbon", count: 2)
            == [utc("2026-03-29T01:00:00Z"), utc("2026-03-30T00:30:00Z")])
        // Every quarter hour: the skipped 01:00-01:45 collapse into the jump, which is also 02:00's slot.
        #expect(try slots("*/15 * * * *", after: "2026-03-29T00:40:00Z", in: "Europe/Lisbon", count: 3)
            == [utc("2026-03-29T00:45:00Z"), utc("2026-03-29T01:00:00Z"), utc("2026-03-29T01:15:00Z")])
        // New York, 2026-03-08: 02:00 EST becomes 03:00 EDT at 07:00 UTC.
        #expect(try slots("30 2 * * *", after: "2026-03-07T12:00:00Z", in: "America/New_York", count: 2)
            == [utc("2026-03-08T07:00:00Z"), utc("2026-03-09T06:30:00Z")])
    }

    @Test("a local time repeated by the autumn change runs once, at its first occurrence")
    func fallBack() throws {
        // Lisbon, 2026-10-25: at 01:00 UTC the clocks go back from 02:00 to 01:00; 01:30 happens twice.
        #expect(try slots("30 1 * * *", after: "2026-10-24T12:00:00Z", in: "Europe/Lisbon", count: 2)
            == [utc("2026-10-25T00:30:00Z"), utc("2026-10-26T01:30:00Z")])
        // From inside the repeated hour's second pass, the next slot is the next day's.
        #expect(try next("30 1 * * *", after: "2026-10-25T01:10:00Z", in: "Europe/Lisbon")
            == utc("2026-10-26T01:30:00Z"))
        // Hourly at :00: local 01:00 once (00:00 UTC), then 02:00 (02:00 UTC), not 01:00 again at 01:00 UTC.
        #expect(try slots("0 * * * *", after: "2026-10-24T23:30:00Z", in: "Europe/Lisbon", count: 3)
            == [utc("2026-10-25T00:00:00Z"), utc("2026-10-25T02:00:00Z"), utc("2026-10-25T03:00:00Z")])
        // New York, 2026-11-01: 02:00 EDT becomes 01:00 EST at 06:00 UTC; 01:30 EDT is 05:30 UTC.
        #expect(try slots("30 1 * * *", after: "2026-10-31T12:00:00Z", in: "America/New_York", count: 2)
            == [utc("2026-11-01T05:30:00Z"), utc("2026-11-02T06:30:00Z")])
    }

    @Test("bad expressions are refused, naming the field")
    func badExpressions() {
        func problem(_ expression: String) -> String? {
            do {
                _ = try CronSchedule.parse(expression)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(problem("61 * * * *") == "minute: 61 is out of range 0-59")
        #expect(problem("* * *")?.contains("has 3 fields; a cron expression has five") == true)
        #expect(problem("*/0 * * * *") == "minute: a step of 0 is not allowed; use 1 or more")
        #expect(problem("0 24 * * *") == "hour: 24 is out of range 0-23")
        #expect(problem("0 0 0 * *") == "day-of-month: 0 is out of range 1-31")
        #expect(problem("0 0 * 13 *") == "month: 13 is out of range 1-12")
        #expect(problem("0 0 * * 8") == "day-of-week: 8 is out of range 0-7")
        #expect(problem("0 0 * * FUN")?.hasPrefix("day-of-week: \"FUN\" is not a number") == true)
        #expect(problem("5-1 * * * *") == "minute: the range 5-1 runs backwards")
        #expect(problem("1,,2 * * * *")?.hasPrefix("minute:") == true)
        #expect(problem("0 0 30 2 *") == "day-of-month: 30 never occurs in month 2")
        #expect(problem("@fortnightly")?.contains("not a known shorthand") == true)
        #expect(problem("* * * * * *")?.contains("has 6 fields") == true)
    }
}
