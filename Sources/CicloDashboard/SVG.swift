import Foundation

/// The few SVG pieces the charts share. Every text that comes from data (campaign names, stage names, labels)
/// goes through `escape`, so a campaign called `<script>` is drawn as text, never run.
enum SVG {
    /// Colour-blind-safe pairs first: treated and holdout are the first two series of most charts.
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"]

    static func open(width: Double, height: Double, title: String, kind: String) -> String {
        "<svg class=\"chart \(kind)\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(number(width)) \(number(height))\" "
            + "role=\"img\" aria-label=\"\(escape(title))\"><title>\(escape(title))</title>"
    }

    static func text(_ text: String, x: Double, y: Double, anchor: String) -> String {
        "<text x=\"\(number(x))\" y=\"\(number(y))\" text-anchor=\"\(anchor)\" font-size=\"11\" fill=\"#444\">\(escape(text))</text>"
    }

    static func line(x1: Double, y1: Double, x2: Double, y2: Double) -> String {
        "<line x1=\"\(number(x1))\" y1=\"\(number(y1))\" x2=\"\(number(x2))\" y2=\"\(number(y2))\" stroke=\"#999\"/>"
    }

    static func legend(_ names: [String], x: Double, y: Double) -> String {
        var out = ""
        var left = x
        for (index, name) in names.enumerated() {
            let colour = palette[index % palette.count]
            out += "<rect x=\"\(number(left))\" y=\"\(number(y - 9))\" width=\"10\" height=\"10\" fill=\"\(colour)\"/>"
            out += text(name, x: left + 14, y: y, anchor: "start")
            left += 24 + Double(name.count) * 6.5
        }
        return out
    }

    /// Coordinates with at most one decimal: enough for a 640-unit view box, and short pages.
    static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

/// Figures as people read them: thousands separated, rates as percentages, money with two decimals.
public enum Display {
    public static func count(_ value: Double) -> String {
        let whole = Int(value.rounded())
        let digits = String(abs(whole))
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped += "," }
            grouped.append(digit)
        }
        return (whole < 0 ? "-" : "") + grouped
    }

    public static func percent(_ rate: Double) -> String {
        let value = rate * 100
        return String(format: value != 0 && abs(value) < 10 ? "%.2f%%" : "%.1f%%", value)
    }

    public static func money(_ value: Double) -> String { String(format: "%.2f", value) }
}
