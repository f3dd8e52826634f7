import Foundation

/// The format of a customers file.
public enum ImportFormat: String, Sendable, CaseIterable {
    /// Comma-separated values with a header row.
    case csv
    /// JSON Lines: one JSON object per line.
    case jsonl

    /// The format a file name implies: `.csv`, or `.jsonl` / `.ndjson`; nil for anything else.
    public init?(fileName: String) {
        switch URL(fileURLWithPath: fileName).pathExtension.lowercased() {
        case "csv": self = .csv
        case "jsonl", "ndjson": self = .jsonl
        default: return nil
        }
    }
}

/// How far an import has got, for a progress line on long files.
public struct ImportProgress: Sendable {
    public enum Phase: Sendable {
        /// Rows are being read from the file and streamed into the staging table.
        case reading
        /// The file is read; the staged rows are being merged into the real tables.
        case applying
    }

    public var phase: Phase
    /// Rows read so far (blank lines and the header do not count).
    public var rows: Int
    public var elapsed: Duration

    public var rowsPerSecond: Double {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return seconds > 0 ? Double(rows) / seconds : 0
    }
}

/// Settings of one import run.
public struct ImportOptions: Sendable {
    /// The customers file's format; nil means "from the file name".
    public var format: ImportFormat?
    /// Where to write every rejected row as `line<TAB>reason`, or nil.
    public var rejectsFile: URL?
    /// Called on the reading thread at most once per `progressInterval`, and never for a file read faster.
    public var progress: (@Sendable (ImportProgress) -> Void)?
    public var progressInterval: Duration
    /// How many rejected rows the report lists (all of them are counted, and written to `rejectsFile`).
    public var listedRejects: Int

    public init(
        format: ImportFormat? = nil, rejectsFile: URL? = nil,
        progress: (@Sendable (ImportProgress) -> Void)? = nil, progressInterval: Duration = .seconds(1),
        listedRejects: Int = 20
    ) {
        self.format = format
        self.rejectsFile = rejectsFile
        self.progress = progress
        self.progressInterval = progressInterval
        self.listedRejects = listedRejects
    }
}

/// Counts rows and calls the progress callback when the interval has passed. Checks the clock every 1,024 rows so
/// the count stays cheap on the hot path.
struct ProgressTicker {
    let callback: (@Sendable (ImportProgress) -> Void)?
    let interval: Duration
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant
    private var lastReport: ContinuousClock.Instant
    private(set) var rows = 0
    /// Whether a progress line was shown, so the applying phase is announced only for long files.
    private(set) var reported = false

    init(_ options: ImportOptions) {
        callback = options.progress
        interval = options.progressInterval
        start = clock.now
        lastReport = start
    }

    mutating func row() {
        rows += 1
        guard let callback, rows & 1023 == 0 else { return }
        let now = clock.now
        guard now - lastReport >= interval else { return }
        lastReport = now
        reported = true
        callback(ImportProgress(phase: .reading, rows: rows, elapsed: now - start))
    }

    func applying() {
        guard reported, let callback else { return }
        callback(ImportProgress(phase: .applying, rows: rows, elapsed: clock.now - start))
    }
}
