/// One rejected row: its line in the file (where the row starts) and why it was rejected.
public struct RejectedRow: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { "line \(line): \(reason)" }
}

/// What an import did.
public struct ImportReport: Sendable, Equatable {
    public enum Kind: String, Sendable { case customers, events }

    public var kind: Kind
    /// Rows read from the file (the header and blank lines do not count).
    public var read: Int
    /// New customers, or new events.
    public var inserted: Int
    /// Customers: existing customers updated. Events: events already stored (or repeated in the file), skipped.
    public var updated: Int
    public var rejected: Int
    /// The first rejected rows, in line order (all of them go to the rejects file when one is given).
    public var firstRejects: [RejectedRow]

    public init(kind: Kind, read: Int, inserted: Int, updated: Int, rejected: Int, firstRejects: [RejectedRow]) {
        self.kind = kind
        self.read = read
        self.inserted = inserted
        self.updated = updated
        self.rejected = rejected
        self.firstRejects = firstRejects
    }

    /// `customers: 10 read, 7 inserted, 2 updated, 1 rejected`, or
    /// `events: 10 read, 7 inserted, 2 already stored, 1 rejected`.
    public var summary: String {
        let middle = kind == .customers ? "\(updated) updated" : "\(updated) already stored"
        return "\(kind.rawValue): \(read) read, \(inserted) inserted, \(middle), \(rejected) rejected"
    }
}
