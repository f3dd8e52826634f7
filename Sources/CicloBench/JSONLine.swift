import Foundation

/// One JSON object written as one line, with its keys in the order given (the harness does not care, but people
/// reading the stream do). Values are limited to what the bench emits: strings, numbers and string arrays.
struct JSONLine {
    enum Value {
        case string(String)
        case number(Double)
        case int(Int)
        case strings([String])
    }

    private var fields: [(String, Value)] = []

    init(_ fields: KeyValuePairs<String, Value>) {
        self.fields = fields.map { ($0.key, $0.value) }
    }

    var text: String {
        "{" + fields.map { "\(Self.quote($0.0)):\(Self.render($0.1))" }.joined(separator: ",") + "}"
    }

    private static func render(_ value: Value) -> String {
        switch value {
        case .string(let text): return quote(text)
        case .int(let number): return String(number)
        case .strings(let texts): return "[" + texts.map(quote).joined(separator: ",") + "]"
        case .number(let number):
            // JSON has no NaN or infinity; a rate over an empty window is 0, not an unparsable line.
            guard number.isFinite else { return "0" }
            // Three decimals: microsecond resolution for milliseconds, and no float noise in rates.
            let rounded = (number * 1000).rounded() / 1000
            if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int64(rounded)) }
            return String(rounded)
        }
    }

    private static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Timestamps as the harness reads them: UTC, milliseconds, `Z`.
enum BenchTime {
    static func iso8601(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Wall-clock microseconds since the Unix epoch: what the producer stamps into each payload.
    static func nowMicroseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000
    }
}

/// Writes one line to stdout with a single write, so each line reaches a harness reading a pipe at once.
public enum StandardOutput {
    public static func writeLine(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
