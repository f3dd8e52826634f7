/// What a maintenance run did, or would do in a dry run, step by step.
public struct MaintenanceReport: Sendable, Equatable {
    /// Where the retention came from.
    public enum Retention: Sendable, Equatable {
        case none
        case setting(days: Int)
        case flag(days: Int)

        public var days: Int? {
            switch self {
            case .none: return nil
            case .setting(let days), .flag(let days): return days
            }
        }
    }

    public enum Step: Sendable, Equatable {
        /// A month [from, to) created, with the rows moved into it from the DEFAULT partition.
        case created(table: String, partition: String, from: String, to: String, movedFromDefault: Int)
        /// A month [from, to) dropped: every row in it is gone.
        case dropped(table: String, partition: String, from: String, to: String)
        /// Rows of the DEFAULT partition older than the cutoff, deleted.
        case purgedDefault(table: String, rows: Int)

        /// Whether the step deleted raw rows (a dropped month or purged DEFAULT rows).
        var removesRawData: Bool {
            switch self {
            case .created: return false
            case .dropped, .purgedDefault: return true
            }
        }
    }

    public var dryRun: Bool
    public var retention: Retention
    /// now() minus the retention, as timestamptz text in UTC; nil without retention.
    public var cutoff: String?
    public var steps: [Step] = []

    /// The report as lines for people: one per step, then a summary.
    public var lines: [String] {
        let verb: (String, String) -> String = { done, planned in dryRun ? "would \(planned)" : done }
        var lines: [String] = []
        switch retention {
        case .none: lines.append("retention: not set, nothing is dropped (set it with --retention-days N --store-retention)")
        case .setting(let days): lines.append("retention: \(days) days (stored setting), cutoff \(cutoff ?? "-")")
        case .flag(let days): lines.append("retention: \(days) days (--retention-days), cutoff \(cutoff ?? "-")")
        }
        for step in steps {
            switch step {
            case .created(let table, let partition, let from, let to, let moved):
                let rows = moved == 0 ? "" : ", \(verb("moved", "move")) \(moved) rows from \(table)'s DEFAULT partition"
                lines.append("\(verb("created", "create")) \(partition) [\(from), \(to))\(rows)")
            case .dropped(_, let partition, let from, let to):
                lines.append("\(verb("dropped", "drop")) \(partition) [\(from), \(to))")
            case .purgedDefault(let table, let rows):
                lines.append("\(verb("deleted", "delete")) \(rows) rows of \(table)'s DEFAULT partition older than the cutoff")
            }
        }
        let created = steps.filter { if case .created = $0 { true } else { false } }.count
        let dropped = steps.filter { if case .dropped = $0 { true } else { false } }.count
        lines.append(steps.isEmpty
            ? "nothing to do\(dryRun ? " (dry run)" : "")"
            : "\(dryRun ? "dry run, nothing changed: would create" : "created") \(created), \(dryRun ? "drop" : "dropped") \(dropped) partitions")
        return lines
    }
}
