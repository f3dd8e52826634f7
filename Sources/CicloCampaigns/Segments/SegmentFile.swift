/// A segment file, as `ciclo segment apply` reads it:
///
///     name: lapsed-depositors
///     rule:
///       all:
///         - stage: Active
///         - events: {kind: deposit, within_days: 30, count: 0}
public struct SegmentFile: Sendable, Equatable {
    public var name: String
    public var segment: Segment

    /// Reads a segment file; every problem is a ConfigError naming the file, line and key path.
    public static func parse(_ text: String, file: String, catalogue: AttributeCatalogue) throws(ConfigError)
        -> SegmentFile
    {
        let mapping = try ConfigNode.parse(text, file: file).mapping(allowing: ["name", "rule"])
        let name = try mapping.required("name").name()
        return SegmentFile(name: name, segment: try Segment.parse(try mapping.required("rule"), catalogue: catalogue))
    }
}
