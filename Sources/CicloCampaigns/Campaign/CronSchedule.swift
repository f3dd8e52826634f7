import Foundation

/// A five-field cron expression (minute hour day-of-month month day-of-week), evaluated in a time zone.
///
/// Fields take `*`, numbers, ranges (`1-5`), steps (`*/15`, `10-40/10`, `5/15`) and comma lists of these; months
/// and weekdays also take their English names (`JAN`, `mon-fri`), and weekday 7 is Sunday like 0. When both the
/// day of the month and the day of the week are restricted, a day matching either runs (the standard cron rule).
/// `@hourly`, `@daily`, `@weekly`, `@monthly` and `@yearly` stand for their usual expressions.
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    /// The expression as written.
    public let expression: String
    let minutes: [Int]
    let hours: [Int]
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    /// 0 is Sunday.
    let daysOfWeek: Set<Int>
    /// Whether each day field was written as something other than `*...`: only then does the OR rule apply.
    let restrictsDayOfMonth: Bool
    let restrictsDayOfWeek: Bool

    public var description: String { expression }

    public static func parse(_ text: String) throws(CronError) -> CronSchedule {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let expanded: String
        if trimmed.hasPrefix("@") {
            guard let macro = macros[trimmed.lowercased()] else {
                throw CronError(field: nil, "\"\(trimmed)\" is not a known shorthand; use one of "
                    + macros.keys.sorted().joined(separator: ", ") + ", or five fields")
            }
            expanded = macro
        } else {
            expanded = trimmed
        }
        let fields = expanded.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else {
            throw CronError(field: nil, "\"\(trimmed)\" has \(fields.count) field\(fields.count == 1 ? "" : "s"); "
                + "a cron expression has five: minute hour day-of-month month day-of-week")
        }
        let minute = try Field.minute.parse(fields[0])
        let hour = try Field.hour.parse(fields[1])
        let dayOfMonth = try Field.dayOfMonth.parse(fields[2])
        let month = try Field.month.parse(fields[3])
        let dayOfWeek = try Field.dayOfWeek.parse(fields[4])
        let schedule = CronSchedule(
            expression: trimmed, minutes: minute.sorted(), hours: hour.sorted(), daysOfMonth: dayOfMonth,
            months: month, daysOfWeek: Set(dayOfWeek.map { $0 % 7 }),
            restrictsDayOfMonth: !fields[2].hasPrefix("*"), restrictsDayOfWeek: !fields[4].hasPrefix("*"))
        // A day of the month that no chosen month has (30 February) would make `next` search forever.
        if !schedule.restrictsDayOfWeek || !schedule.restrictsDayOfMonth {
            let possible = month.contains { m in dayOfMonth.contains { $0 <= Self.longestMonth[m - 1] } }
            if !possible {
                throw CronError(field: "day-of-month", "\(fields[2]) never occurs in month \(fields[3])")
            }
        }
        return schedule
    }

    static let macros = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]
    static let longestMonth = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

    /// Whether the schedule runs on a calendar day (month 1...12, weekday 0 = Sunday).
    func matches(month: Int, day: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        let dayOfMonth = daysOfMonth.contains(day), dayOfWeek = daysOfWeek.contains(weekday)
        if restrictsDayOfMonth && restrictsDayOfWeek { return dayOfMonth || dayOfWeek }
        return dayOfMonth && dayOfWeek
    }
}

/// An expression that does not parse, naming the field at fault.
public struct CronError: Error, Sendable, Equatable, CustomStringConvertible {
    /// minute, hour, day-of-month, month or day-of-week; nil when the expression as a whole is wrong.
    public var field: String?
    public var problem: String

    public init(field: String?, _ problem: String) {
        self.field = field
        self.problem = problem
    }

    public var description: String { field.map { "\($0): \(problem)" } ?? problem }
}

/// One of the five fields: its name, range and value names.
struct Field {
    var name: String
    var range: ClosedRange<Int>
    var names: [String: Int] = [:]
    var example = ""

    static let minute = Field(name: "minute", range: 0...59)
    static let hour = Field(name: "hour", range: 0...23)
    static let dayOfMonth = Field(name: "day-of-month", range: 1...31)
    static let month = Field(
        name: "month", range: 1...12,
        names: Dictionary(uniqueKeysWithValues: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                                 "nov", "dec"].enumerated().map { ($1, $0 + 1) }),
        example: "JAN")
    static let dayOfWeek = Field(
        name: "day-of-week", range: 0...7,
        names: Dictionary(uniqueKeysWithValues: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
            .enumerated().map { ($1, $0) }),
        example: "MON")

    func error(_ problem: String) -> CronError { CronError(field: name, problem) }

    /// The values a field's text selects.
    func parse(_ text: String) throws(CronError) -> Set<Int> {
        var values: Set<Int> = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw error("\"\(text)\" has an empty list item") }
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw error("\"\(item)\" has more than one step") }
            var step = 1
            if parts.count == 2 {
                guard let value = Int(parts[1]) else { throw error("the step \"\(parts[1])\" is not a number") }
                guard value > 0 else { throw error("a step of \(value) is not allowed; use 1 or more") }
                step = value
            }
            let span: ClosedRange<Int>
            if parts[0] == "*" {
                span = range
            } else if let dash = parts[0].firstIndex(of: "-") {
                let low = try value(parts[0][..<dash]), high = try value(parts[0][parts[0].index(after: dash)...])
                guard low <= high else { throw error("the range \(parts[0]) runs backwards") }
                span = low...high
            } else {
                let low = try value(parts[0])
                // `5/15` means from 5 to the end in steps of 15, as in Vixie cron.
                span = parts.count == 2 ? low...range.upperBound : low...low
            }
            values.formUnion(stride(from: span.lowerBound, through: span.upperBound, by: step))
        }
        return values
    }

    private func value(_ text: Substring) throws(CronError) -> Int {
        if let number = Int(text) {
            guard range.contains(number) else {
                throw error("\(number) is out of range \(range.lowerBound)-\(range.upperBound)")
            }
            return number
        }
        if let named = names[text.lowercased()] { return named }
        if text.isEmpty { throw error("a range is missing a bound") }
        throw error("\"\(text)\" is not a number\(example.isEmpty ? "" : " or a name such as \(example)")")
    }
}
