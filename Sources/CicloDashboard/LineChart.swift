/// A line chart drawn as inline SVG on the server: the dashboard needs no script and no front-end build, and a
/// page saved or printed keeps its charts. Each series is one `<polyline>`; axes carry the first, middle and last
/// labels and the maximum, so a reader can tell the scale without hovering.
public struct LineChart: Sendable, Equatable {
    public struct Series: Sendable, Equatable {
        public var name: String
        public var values: [Double]

        public init(name: String, values: [Double]) {
            self.name = name
            self.values = values
        }
    }

    public var title: String
    /// One label per point, e.g. the days.
    public var labels: [String]
    public var series: [Series]
    /// How a value is written on the axis: a count, or a rate shown as a percentage.
    public var format: ValueFormat

    public init(title: String, labels: [String], series: [Series], format: ValueFormat = .count) {
        self.title = title
        self.labels = labels
        self.series = series
        self.format = format
    }

    static let width = 640.0
    static let height = 220.0
    static let margin = (left: 56.0, right: 12.0, top: 28.0, bottom: 34.0)

    /// The chart as an `<svg>` element. With no points at all it says so in words instead of drawing empty axes.
    public var svg: String {
        let m = Self.margin
        let plotWidth = Self.width - m.left - m.right
        let plotHeight = Self.height - m.top - m.bottom
        var out = SVG.open(width: Self.width, height: Self.height, title: title, kind: "line")
        guard !labels.isEmpty, series.contains(where: { !$0.values.isEmpty }) else {
            out += SVG.text("No data in this period", x: Self.width / 2, y: Self.height / 2, anchor: "middle")
            return out + "</svg>"
        }
        let top = niceCeiling(series.flatMap(\.values).max() ?? 0)
        func x(_ index: Int) -> Double {
            labels.count == 1 ? m.left + plotWidth / 2 : m.left + plotWidth * Double(index) / Double(labels.count - 1)
        }
        func y(_ value: Double) -> Double { m.top + plotHeight * (1 - (top == 0 ? 0 : value / top)) }

        out += SVG.line(x1: m.left, y1: m.top + plotHeight, x2: m.left + plotWidth, y2: m.top + plotHeight)
        out += SVG.line(x1: m.left, y1: m.top, x2: m.left, y2: m.top + plotHeight)
        for fraction in [0.0, 0.5, 1.0] {
            out += SVG.text(format.axis(top * fraction), x: m.left - 6, y: y(top * fraction) + 4, anchor: "end")
        }
        // The first label starts at the axis and the last ends at the plot's edge, so neither is cut off.
        for index in Set([0, labels.count / 2, labels.count - 1]).sorted() {
            let anchor = labels.count == 1 ? "middle" : index == 0 ? "start" : index == labels.count - 1 ? "end" : "middle"
            out += SVG.text(labels[index], x: x(index), y: Self.height - 12, anchor: anchor)
        }
        for (number, line) in series.enumerated() {
            let points = line.values.prefix(labels.count).enumerated().map { "\(SVG.number(x($0))),\(SVG.number(y($1)))" }
            out += "<polyline class=\"series s\(number % SVG.palette.count)\" fill=\"none\" stroke=\"\(SVG.palette[number % SVG.palette.count])\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"><title>\(SVG.escape(line.name))</title></polyline>"
        }
        out += SVG.legend(series.map(\.name), x: m.left, y: 16)
        return out + "</svg>"
    }

    /// A round number at or above `value` for the top of the axis: 1, 2 or 5 times a power of ten.
    func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 0 }
        if format == .rate, value <= 1 { return [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1].first { $0 >= value } ?? 1 }
        var magnitude = 1.0
        while magnitude * 10 <= value { magnitude *= 10 }
        while magnitude > value { magnitude /= 10 }
        return [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= value } ?? value
    }
}

/// How figures are written on axes and in tables.
public enum ValueFormat: Sendable, Equatable {
    case count, rate, money

    public func axis(_ value: Double) -> String {
        switch self {
        case .count: return Display.count(value)
        case .rate: return Display.percent(value)
        case .money: return Display.money(value)
        }
    }
}
