import Foundation

extension Campaign.Status {
    /// What an operator does to a stored campaign.
    public enum Command: String, Sendable, CaseIterable {
        case pause, resume, archive
    }

    /// The status `command` leads to from this one, or why it cannot: archived is final, and pausing or resuming
    /// what already is so is a mistake worth saying rather than a silent no-op.
    public func after(_ command: Command) -> Result<Campaign.Status, StatusChangeError> {
        switch (self, command) {
        case (.archived, _):
            return .failure(StatusChangeError(
                "is archived, which is final; apply the file under a new key to run it again"))
        case (.active, .pause): return .success(.paused)
        case (.paused, .pause): return .failure(StatusChangeError("is already paused"))
        case (.draft, .pause):
            return .failure(StatusChangeError("is a draft, which does not run; there is nothing to pause"))
        case (.paused, .resume), (.draft, .resume): return .success(.active)
        case (.active, .resume): return .failure(StatusChangeError("is already active"))
        case (_, .archive): return .success(.archived)
        }
    }
}

/// Why a status change cannot happen; completes "campaign KEY ...".
public struct StatusChangeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension Recurring {
    /// The first schedule slot at or after `date`. Interval schedules count from `anchor` (the campaign's start);
    /// without one, from `date` itself.
    public func firstSlot(atOrAfter date: Date, anchor: Date?) -> Date? {
        switch schedule {
        case .cron(let cron, let timeZone):
            // Slots are whole minutes, so "at or after" is "strictly after" a moment earlier.
            return cron.next(after: date.addingTimeInterval(-0.001), in: timeZone)
        case .interval(let seconds):
            guard let anchor, anchor < date else { return anchor ?? date }
            let periods = ((date.timeIntervalSince(anchor)) / Double(seconds)).rounded(.up)
            return anchor.addingTimeInterval(periods * Double(seconds))
        }
    }
}

extension Campaign {
    /// The first run of a recurring campaign applied at `now`: the first slot at or after both `now` and its
    /// start, and nil for other kinds or when that slot is not before its end.
    public func firstRun(now: Date) -> Date? {
        guard let recurring else { return nil }
        let from = max(now, startsAt ?? now)
        guard let slot = recurring.firstSlot(atOrAfter: from, anchor: startsAt) else { return nil }
        if let endsAt, slot >= endsAt { return nil }
        return slot
    }
}
