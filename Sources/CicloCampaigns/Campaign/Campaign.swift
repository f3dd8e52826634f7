import Foundation

/// A campaign as its file describes it, validated. `CampaignFile.parse` builds one; the campaign store keeps the
/// file's JSON form in campaigns.definition and the scheduler parses that again, so there is one source of truth.
public struct Campaign: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case recurring, trigger, experience, adhoc
    }

    /// draft: stored, not run; active: run by the scheduler; paused: kept, not run; archived: final.
    public enum Status: String, Sendable, CaseIterable {
        case draft, active, paused, archived
    }

    /// The channels a campaign can use, with the template parts each one reads.
    public enum Channel: String, Sendable, CaseIterable {
        case email, sms, push, webhook
    }

    public var key: String
    public var name: String
    public var kind: Kind
    public var channel: String
    /// The status the file asks for; nil keeps the stored one (a new campaign starts as a draft).
    public var status: Status?
    public var segment: SegmentReference
    /// Higher wins the last slot under a frequency cap.
    public var priority: Int
    public var startsAt: Date?
    public var endsAt: Date?
    /// The share of eligible customers held out as the control group, in [0, 1).
    public var holdoutShare: Double
    /// The lifecycle stage whose objective the campaign serves.
    public var stage: String?
    /// Cooldowns hold across every campaign of a family (the same offer told differently); nil: the campaign alone.
    public var offerFamily: String?
    /// Transactional messages skip caps, quiet hours and holdouts.
    public var transactional: Bool
    /// Content variants, in the file's order; recurring campaigns rotate through them.
    public var variants: [Variant]
    /// Campaign-level template variables (an offer code), handed to every send.
    public var variables: [String: String]
    /// Exclusion segments: a customer in any of them is not targeted.
    public var exclude: [SegmentReference]

    public var recurring: Recurring?
    public var trigger: Trigger?
    public var experience: Experience?
    public var adhoc: AdHoc?

    /// A conversion is credited to a send of this campaign up to this many days after it (attribution_window).
    public var attributionDays = 7

    /// The offer family the decision log files the campaign's sends under.
    public var family: String { offerFamily ?? key }
}

/// A named segment stored on its own, or one written inside the campaign file.
public enum SegmentReference: Sendable {
    case named(String)
    case inline(Segment)
}

/// One content variant: its templates, one per locale.
public struct Variant: Sendable {
    public var name: String
    /// The tone an experience campaign picks it for (celebrate, comfort...), if any.
    public var tone: String?
    public var persona: String?
    public var templates: [LocalizedTemplate]
}

/// A variant's content in one locale: part name to Mustache source, and its declared variables.
public struct LocalizedTemplate: Sendable {
    public var locale: String
    public var parts: [String: String]
    /// Variable name and its default, if any.
    public var variables: [(name: String, defaultValue: String?)]
}

/// When a recurring campaign is evaluated, and how long a customer rests before the same offer comes again.
public struct Recurring: Sendable {
    public var schedule: Schedule
    public var cooldownDays: Int
}

public enum Schedule: Sendable {
    /// A cron expression read in a time zone (the campaign's audience's, typically), daylight saving included.
    case cron(CronSchedule, timeZone: TimeZone)
    /// Every so many seconds from the campaign's start.
    case interval(seconds: Int)
}

/// Sent after a customer's event of a kind, when the event's payload passes the filter.
public struct Trigger: Sendable {
    public var eventKind: String
    public var filter: PayloadFilter?
    /// Wait this long after the event.
    public var delaySeconds: Int
    /// Past the event by more than this, the send is no longer relevant and expires.
    public var windowSeconds: Int
}

/// Sent after a good or bad experience: the first tone whose condition the event passes picks the variant.
public struct Experience: Sendable {
    public struct Tone: Sendable {
        public var name: String
        public var when: PayloadFilter
        public var variant: String
    }

    public var eventKind: String
    public var tones: [Tone]
    public var delaySeconds: Int
    public var windowSeconds: Int
    /// Guard rails: no more than one send per cooldown, and at most capPerDay per customer per day.
    public var cooldownDays: Int
    public var capPerDay: Int?
}

/// Launched by hand; sends still deferred at the expiry are cancelled.
public struct AdHoc: Sendable {
    public var expiresAt: Date?
}
