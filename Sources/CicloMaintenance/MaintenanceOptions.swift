/// What `ciclo maintenance` is asked to do. Only the executable reads flags; this module takes the struct.
public struct MaintenanceOptions: Sendable, Equatable {
    /// Partitions exist for this many months after the current one.
    public var monthsAhead: Int
    /// Overrides the stored retention setting for this run; nil uses the setting (and no setting drops nothing).
    public var retentionDays: Int?
    /// Also stores `retentionDays` as the setting that later runs use.
    public var storeRetention: Bool
    /// Plans and reports, and changes nothing.
    public var dryRun: Bool

    public static let monthsAheadRange = 0...60
    /// At least a day: a retention of zero would drop the month being written. At most a hundred years.
    public static let retentionDaysRange = 1...36_500

    public init(monthsAhead: Int = 3, retentionDays: Int? = nil, storeRetention: Bool = false, dryRun: Bool = false) {
        self.monthsAhead = monthsAhead
        self.retentionDays = retentionDays
        self.storeRetention = storeRetention
        self.dryRun = dryRun
    }

    /// Refuses options that make no sense before anything touches the database.
    public func validate() throws(MaintenanceError) {
        guard Self.monthsAheadRange.contains(monthsAhead) else {
            throw MaintenanceError(.badOption, "--months-ahead must be between \(Self.monthsAheadRange.lowerBound) and \(Self.monthsAheadRange.upperBound); it is \(monthsAhead)")
        }
        if let retentionDays, !Self.retentionDaysRange.contains(retentionDays) {
            throw MaintenanceError(.badOption, "--retention-days must be between \(Self.retentionDaysRange.lowerBound) and \(Self.retentionDaysRange.upperBound); it is \(retentionDays)")
        }
        if storeRetention && retentionDays == nil {
            throw MaintenanceError(.badOption, "--store-retention stores the value of --retention-days; give --retention-days too")
        }
        if storeRetention && dryRun {
            throw MaintenanceError(.badOption, "--store-retention changes the stored setting and --dry-run changes nothing; choose one")
        }
    }
}

/// A maintenance run that cannot go ahead, with one sentence on what to do.
public struct MaintenanceError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// A flag out of range or a contradictory combination.
        case badOption
        /// The stored retention setting is not a number of days in range.
        case badSetting
        /// A raw table is not partitioned: the database needs `ciclo migrate`.
        case notPartitioned
        /// A table stayed locked by someone else past the lock timeout.
        case lockTimeout
    }

    public var code: Code
    public var description: String

    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
