/// Horizontal bars, one per category, each with up to two measures side by side: coverage against its target
/// per stage, or the treated against the holdout conversion rate. The value is written at the end of each bar.
public struct BarChart: Sendable, Equatable {
    public struct Bar: Sendable, Equatable {
        public var label: String
        public var values: [Double]

        public init(label: String, values: [Double]) {
            self.label = label
            self.values = values
        }
    }

    public var title: String
    /// The names of the measures, in the order of each bar's values.
    public var measures: [String]
    public var bars: [Bar]
    public var format: ValueFormat

    public init(title: String, measures: [String], bars: [Bar], format: ValueFormat = .count) {
        self.title = title
        self.measures = measures
        self.bars = bars
        self.format = format
    }

    public var svg: String {
        let rowHeight = 14.0 * Double(max(measures.count, 1)) + 10
        let left = 120.0, right = 70.0, top = 28.0, width = 640.0
        let height = top + rowHeight * Double(max(bars.count, 1)) + 8
        var out = SVG.open(width: width, height: height, title: title, kind: "bar")
        guard !bars.isEmpty else {
            out += SVG.text("No data in this period", x: width / 2, y: top + 16, anchor: "middle")
            return out + "</svg>"
        }
        let largest = bars.flatMap(\.values).max() ?? 0
        let scale = largest > 0 ? (width - left - right) / largest : 0
        for (row, bar) in bars.enumerated() {
            let y = top + rowHeight * Double(row)
            out += SVG.text(bar.label, x: left - 6, y: y + rowHeight / 2 + 2, anchor: "end")
            for (index, value) in bar.values.prefix(measures.count).enumerated() {
                let barY = y + 4 + 14 * Double(index)
                let length = max(value * scale, value > 0 ? 1 : 0)
                out += "<rect class=\"bar s\(index % SVG.palette.count)\" x=\"\(SVG.number(left))\" y=\"\(SVG.number(barY))\" "
                    + "width=\"\(SVG.number(length))\" height=\"12\" fill=\"\(SVG.palette[index % SVG.palette.count])\">"
                    + "<title>\(SVG.escape(bar.label)) \(SVG.escape(measures[index])): \(format.axis(value))</title></rect>"
                out += SVG.text(format.axis(value), x: left + length + 4, y: barY + 10, anchor: "start")
            }
        }
        out += SVG.legend(measures, x: left, y: 16)
        return out + "</svg>"
    }
}
