/// The printed result: one row per figure with our client's number, the reference's and their ratio.
struct ResultTable {
    enum Line {
        case section(String)
        case row(label: String, client: String, reference: String, ratio: String)
        case note(String)
    }

    private(set) var lines: [Line] = []

    mutating func section(_ title: String) { lines.append(.section(title)) }
    mutating func note(_ text: String) { lines.append(.note(text)) }

    /// A row of two measured numbers; the ratio is client / reference.
    mutating func row(_ label: String, client: Double?, reference: Double?, decimals: Int = 0) {
        let ratio: String
        if let client, let reference, reference > 0 {
            ratio = Self.format(client / reference, decimals: 2)
        } else {
            ratio = "-"
        }
        lines.append(
            .row(
                label: label, client: client.map { Self.format($0, decimals: decimals) } ?? "-",
                reference: reference.map { Self.format($0, decimals: decimals) } ?? "-", ratio: ratio))
    }

    /// A row of preformatted text (counts, checks), with no ratio.
    mutating func row(_ label: String, client: String, reference: String, ratio: String = "") {
        lines.append(.row(label: label, client: client, reference: reference, ratio: ratio))
    }

    func render() -> String {
        let header = ("figure", "ciclo client", "reference", "ratio")
        var widths = (header.0.count, header.1.count, header.2.count, header.3.count)
        for case .row(let label, let client, let reference, let ratio) in lines {
            widths = (
                max(widths.0, label.count + 2), max(widths.1, client.count), max(widths.2, reference.count),
                max(widths.3, ratio.count)
            )
        }
        func pad(_ text: String, _ width: Int, right: Bool) -> String {
            let space = String(repeating: " ", count: max(0, width - text.count))
            return right ? space + text : text + space
        }
        func format(_ a: String, _ b: String, _ c: String, _ d: String) -> String {
            "\(pad(a, widths.0, right: false))  \(pad(b, widths.1, right: true))  \(pad(c, widths.2, right: true))  "
                + pad(d, widths.3, right: true)
        }
        let total = widths.0 + widths.1 + widths.2 + widths.3 + 6
        var out = [format(header.0, header.1, header.2, header.3), String(repeating: "-", count: total)]
        for line in lines {
            switch line {
            case .section(let title):
                if out.count > 2 { out.append("") }
                out.append(title)
            case .row(let label, let client, let reference, let ratio):
                out.append(format("  " + label, client, reference, ratio))
            case .note(let text):
                out.append("    " + text)
            }
        }
        return out.joined(separator: "\n")
    }

    /// A number with thousands separators and a fixed number of decimals, independent of locale.
    static func format(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int((abs(value) * scale).rounded())
        let whole = scaled / Int(scale)
        let fraction = scaled % Int(scale)
        var digits = String(whole)
        var grouped = ""
        while digits.count > 3 {
            grouped = "," + digits.suffix(3) + grouped
            digits.removeLast(3)
        }
        grouped = digits + grouped
        if decimals > 0 {
            let f = String(fraction)
            grouped += "." + String(repeating: "0", count: decimals - f.count) + f
        }
        return (value < 0 && scaled != 0 ? "-" : "") + grouped
    }

    static func format(_ value: Int) -> String { format(Double(value), decimals: 0) }
}
