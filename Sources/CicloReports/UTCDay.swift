import Foundation

/// A report day, the rollups' unit: a UTC calendar day written strictly YYYY-MM-DD (no lenient "2026-2-30").
public enum UTCDay {
    /// The day's start, or nil when `text` is not exactly a real day in that form.
    public static func parse(_ text: String) -> Date? {
        let formatter = formatter()
        guard text.utf8.count == 10, let date = formatter.date(from: text), formatter.string(from: date) == text else {
            return nil
        }
        return date
    }

    public static func text(_ date: Date) -> String { formatter().string(from: date) }

    /// The start of the UTC day holding `date`.
    public static func start(of date: Date) -> Date { parse(text(date)) ?? date }

    static func formatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.isLenient = false
        return formatter
    }
}
