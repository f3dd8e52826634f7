import Foundation
import Yams

extension ConfigNode {
    public var isMapping: Bool {
        if case .mapping = node { return true }
        return false
    }

    public var isSequence: Bool {
        if case .sequence = node { return true }
        return false
    }

    public var isScalar: Bool {
        if case .scalar = node { return true }
        return false
    }

    /// A `|` or `>` scalar, whose text starts on the line after the indicator.
    var isBlockScalar: Bool {
        if case .scalar(let scalar) = node { return scalar.style == .literal || scalar.style == .folded }
        return false
    }

    /// A duration such as `45s`, `30m`, `2h`, `1d`, `1w` or `1h30m`, in seconds. A bare number is refused: its unit
    /// would be a guess.
    public func duration() throws(ConfigError) -> Int {
        let text = try string().trimmingCharacters(in: .whitespaces)
        guard let seconds = DurationText.seconds(text) else {
            throw error("expected a duration such as 30m, 2h or 1d, found \"\(text)\"")
        }
        return seconds
    }

    /// An instant in ISO 8601 with its offset, such as `2026-01-01T09:00:00Z` or `2026-01-01T09:00:00+01:00`.
    public func timestamp() throws(ConfigError) -> Date {
        let text = try string().trimmingCharacters(in: .whitespaces)
        guard let date = TimestampText.parse(text) else {
            throw error("expected a time such as 2026-01-01T09:00:00Z (ISO 8601 with its offset), found \"\(text)\"")
        }
        return date
    }

    /// An IANA time zone name such as Europe/Lisbon.
    public func timeZone() throws(ConfigError) -> TimeZone {
        let name = try string()
        guard let zone = TimeZone(identifier: name), name.contains("/") || name == "UTC" || name == "GMT" else {
            throw error("\"\(name)\" is not an IANA time zone name such as Europe/Lisbon or UTC")
        }
        return zone
    }
}

/// Durations as campaign files write them.
enum DurationText {
    static let units: [Character: Int] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]

    /// `1h30m` is 5400; nil for anything else than number-unit pairs (units s, m, h, d, w), each unit once, largest
    /// first.
    static func seconds(_ text: String) -> Int? {
        var total = 0, number = "", lastUnit = Int.max
        for character in text {
            if character.isASCII && character.isNumber {
                number.append(character)
            } else if let unit = units[character], let amount = Int(number), unit < lastUnit {
                let (product, overflow1) = amount.multipliedReportingOverflow(by: unit)
                let (sum, overflow2) = total.addingReportingOverflow(product)
                guard !overflow1, !overflow2 else { return nil }
                total = sum
                number = ""
                lastUnit = unit
            } else {
                return nil
            }
        }
        return number.isEmpty && lastUnit != .max ? total : nil
    }

    /// The shortest text `seconds` reads back from (5400 → 1h30m).
    static func text(_ seconds: Int) -> String {
        if seconds == 0 { return "0s" }
        var rest = seconds, text = ""
        for (unit, size) in units.sorted(by: { $0.value > $1.value }) where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }
}

/// ISO 8601 instants with an explicit offset, with or without fractional seconds.
enum TimestampText {
    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    static func text(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
