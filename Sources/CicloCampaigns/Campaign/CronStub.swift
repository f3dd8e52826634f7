// TEMPORARY STUB, replaced by the cron parser. Only the API surface is fixed here.
import Foundation

/// A five-field cron expression (minute hour day-of-month month day-of-week), evaluated in a time zone.
public struct CronSchedule: Sendable {
    public static func parse(_ text: String) throws(CronError) -> CronSchedule { CronSchedule() }

    /// The first instant strictly after `date` that the expression matches, in `timeZone`'s local time.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? { date.addingTimeInterval(86_400) }
}

public struct CronError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
}
