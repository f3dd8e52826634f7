import Foundation

extension CronSchedule {
    /// How far `next` looks before deciding the expression never matches again (29 February on a weekday the
    /// OR rule does not add needs up to 8 years; the year 2100 is not a leap year).
    static let searchDays = 366 * 9

    /// The first instant strictly after `date` that the expression matches, in `timeZone`'s local time.
    ///
    /// Daylight saving is handled in wall-clock time: a local time the clocks skip (02:30 on the night they spring
    /// forward) runs at the first instant after the jump, and a local time that happens twice (01:30 on the night
    /// they fall back) runs once, at its first occurrence.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        let after = date.timeIntervalSince1970
        let wallAfter = after + Double(timeZone.secondsFromGMT(for: date))
        // A day early: the resolved instant of a wall time can precede its naive one by up to an offset change.
        let first = Int((wallAfter / 86_400).rounded(.down)) - 1
        for day in first...(first + Self.searchDays) {
            let (_, month, dayOfMonth) = Self.civil(day)
            // 1970-01-01 was a Thursday (weekday 4).
            let weekday = ((day % 7) + 11) % 7
            guard matches(month: month, day: dayOfMonth, weekday: weekday) else { continue }
            for hour in hours {
                for minute in minutes {
                    let instant = Self.instant(wall: day * 86_400 + hour * 3_600 + minute * 60, in: timeZone)
                    if Double(instant) > after { return Date(timeIntervalSince1970: Double(instant)) }
                }
            }
        }
        return nil
    }

    /// The instant a local wall time (seconds since 1970-01-01T00:00 local) happens: its first occurrence when
    /// the clocks go back, the moment of the jump when the clocks skip it.
    static func instant(wall: Int, in timeZone: TimeZone) -> Int {
        func offset(_ instant: Int) -> Int {
            timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant)))
        }
        // Every offset in force within a day of the wall time; the valid instants are wall - offset for the
        // offsets that are in force at that very instant.
        let offsets = Set([offset(wall - 86_400), offset(wall), offset(wall + 86_400)])
        let candidates = offsets.map { wall - $0 }.filter { wall - offset($0) == $0 }
        if let earliest = candidates.min() { return earliest }
        // Skipped: the jump lies between the candidate under the larger offset (before it) and the one under the
        // smaller offset (after it). Binary search for its first second.
        var low = wall - offsets.max()!, high = wall - offsets.min()!
        let before = offset(low)
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if offset(middle) == before { low = middle } else { high = middle }
        }
        return high
    }

    /// Year, month and day of a day number (days since 1970-01-01) in the proleptic Gregorian calendar
    /// (Howard Hinnant's civil_from_days).
    static func civil(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
