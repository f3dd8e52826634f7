import Foundation

/// What `ciclo report` shows, as data: rendered as a table, CSV or JSON by ReportRenderer.
public struct Report: Sendable, Codable {
    /// The filters it was drawn with.
    public struct Scope: Sendable, Codable, Equatable {
        public var campaign: String?
        public var stage: String?
        /// Inclusive days, YYYY-MM-DD; nil is unbounded.
        public var from: String?
        public var to: String?
        /// Coverage looks back this many days from `to` (or today).
        public var coverageDays: Int
        public var activeDays: Int

        public init(
            campaign: String? = nil, stage: String? = nil, from: String? = nil, to: String? = nil,
            coverageDays: Int = 30, activeDays: Int = 90
        ) {
            self.campaign = campaign
            self.stage = stage
            self.from = from
            self.to = to
            self.coverageDays = coverageDays
            self.activeDays = activeDays
        }
    }

    /// One campaign × variant × channel × stage over the days, or a campaign's total (variant, channel and stage
    /// nil, `total` true).
    public struct Line: Sendable, Codable {
        public var campaign: String
        public var kind: String?
        public var variant: String?
        public var channel: String?
        public var stage: String?
        public var total: Bool
        public var figures: Figures
        public var kpis: KPIs
    }

    /// Coverage: of the reachable active customers of a stage, how many had a send in the last N days.
    public struct Coverage: Sendable, Codable {
        public var stage: String
        public var reachable: Int
        public var contacted: Int
        public var rate: Double?
    }

    /// Automated (recurring, trigger, experience) against manual (ad hoc) sends, against the 85/15 target.
    public struct Mix: Sendable, Codable {
        public var automatedSends: Int
        public var manualSends: Int
        public var automatedShare: Double?
        public var target: Double
        public var onTarget: Bool?
    }

    /// A stage's objective (lifecycle_stages.kpi and target) and the actual figure, with how it was measured.
    public struct Objective: Sendable, Codable {
        public var stage: String
        public var kpi: String
        public var target: Double
        public var actual: Double?
        public var basis: String
        public var met: Bool?
    }

    public struct Transition: Sendable, Codable {
        public var from: String?
        public var to: String
        public var customers: Int
    }

    /// Customers who entered `stage` in the week starting `week`, and the share still in it k weeks later
    /// (nil until k weeks have passed for the whole cohort).
    public struct Cohort: Sendable, Codable {
        public var stage: String
        public var week: String
        public var entered: Int
        public var retained: [String: Double?]
    }

    public var scope: Scope
    public var lines: [Line]
    /// Present in the overview (no --campaign): coverage, mix, objectives, transitions, cohorts.
    public var coverage: [Coverage]?
    public var mix: Mix?
    public var objectives: [Objective]?
    public var transitions: [Transition]?
    public var cohorts: [Cohort]?
}
