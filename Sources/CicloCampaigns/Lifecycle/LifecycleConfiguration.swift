/// A deployment's lifecycle configuration, as its file (`ciclo config apply FILE`) describes it, validated: the
/// stages and their objectives, the rules that move customers between them, lead scoring, the attribute catalogue,
/// the contact policy per channel, the global holdout and the providers' rate limits. Each section is the whole truth: a section left out of the
/// file means none (no rules, no scoring, no caps), never "keep what is stored".
public struct LifecycleConfiguration: Sendable, Equatable {
    /// Every stage of every model, by model in file order, then by position.
    public var stages: [Stage]
    /// In the order they are applied.
    public var transitions: [TransitionRule]
    public var leadScoring: LeadScoring?
    public var attributes: AttributeCatalogue
    /// One entry per channel, in file order.
    public var contactPolicy: [ChannelPolicy]
    public var globalHoldout: GlobalHoldout?
    /// One entry per channel, in file order.
    public var providerLimits: [ProviderLimit]

    public init(
        stages: [Stage], transitions: [TransitionRule] = [], leadScoring: LeadScoring? = nil,
        attributes: AttributeCatalogue = AttributeCatalogue(), contactPolicy: [ChannelPolicy] = [],
        globalHoldout: GlobalHoldout? = nil, providerLimits: [ProviderLimit] = []
    ) {
        self.stages = stages
        self.transitions = transitions
        self.leadScoring = leadScoring
        self.attributes = attributes
        self.contactPolicy = contactPolicy
        self.globalHoldout = globalHoldout
        self.providerLimits = providerLimits
    }

    /// What a channel's provider accepts, across every worker on every server together: messages per second, and
    /// the burst it tolerates after a quiet spell.
    public struct ProviderLimit: Sendable, Equatable {
        /// The channels whose transports a worker throttles: each has one provider.
        public static let channels = ["email", "sms", "push", "webhook"]

        public var channel: String
        public var perSecond: Double
        public var burst: Double

        public init(channel: String, perSecond: Double, burst: Double) {
            self.channel = channel
            self.perSecond = perSecond
            self.burst = burst
        }
    }

    /// The models in the order their stages appear.
    public var models: [String] {
        var seen: [String] = []
        for stage in stages where !seen.contains(stage.model) { seen.append(stage.model) }
        return seen
    }

    public func stage(_ key: String) -> Stage? { stages.first { $0.key == key } }

    /// A lifecycle stage and the objective it is judged by.
    public struct Stage: Sendable, Equatable {
        /// Unique across models: customers and campaigns name a stage by key alone.
        public var key: String
        public var model: String
        /// 1-based, within the model.
        public var position: Int
        /// For people ("At-risk"); the key when the file gives none.
        public var name: String
        public var description: String?
        public var objective: Objective

        public init(key: String, model: String, position: Int, name: String, description: String? = nil,
                    objective: Objective) {
            self.key = key
            self.model = model
            self.position = position
            self.name = name
            self.description = description
            self.objective = objective
        }
    }

    /// The KPI a stage is judged by and its target (a count, or a rate such as 0.05), and the event kinds that
    /// count as a conversion for the campaigns serving the stage (the reporter credits them to a send).
    public struct Objective: Sendable, Equatable {
        public var kpi: String
        public var target: Double
        public var conversionKinds: [String]

        /// What converts when a stage does not say (lifecycle_stages.conversion_kinds' column default).
        public static let defaultConversionKinds = ["purchase", "deposit", "sign_up"]

        public init(kpi: String, target: Double, conversionKinds: [String] = Objective.defaultConversionKinds) {
            self.kpi = kpi
            self.target = target
            self.conversionKinds = conversionKinds
        }
    }

    /// Moves customers from a stage (or any stage of the target's model, or none) to another when its trigger fires.
    public struct TransitionRule: Sendable, Equatable {
        public enum Trigger: Sendable, Equatable {
            /// An event of this kind, after the customer entered its stage, whose payload passes the filter (the
            /// payload filter language's canonical JSON; nil: every event of the kind).
            case event(kind: String, filter: String?)
            /// No activity for this many days.
            case inactivity(days: Int)
            /// A lead score of at least this.
            case leadScore(atLeast: Double)
        }

        /// Recorded with every move the rule makes.
        public var name: String
        /// nil: any stage of `to`'s model, or none.
        public var from: String?
        public var to: String
        public var trigger: Trigger

        public init(name: String, from: String?, to: String, trigger: Trigger) {
            self.name = name
            self.from = from
            self.to = to
            self.trigger = trigger
        }

        /// The event trigger's payload filter, read back from its JSON.
        public func payloadFilter() throws(ConfigError) -> PayloadFilter? {
            guard case .event(_, let filter?) = trigger else { return nil }
            return try PayloadFilter.parse(ConfigNode.parse(filter, file: "transition rule \(name)"))
        }
    }

    /// Points per event kind, decaying by half every `halfLifeDays`, and the scores that mark marketing- and
    /// sales-qualified leads.
    public struct LeadScoring: Sendable, Equatable {
        public var points: [String: Double]
        public var halfLifeDays: Double
        public var mqlThreshold: Double
        public var sqlThreshold: Double

        public init(points: [String: Double], halfLifeDays: Double, mqlThreshold: Double, sqlThreshold: Double) {
            self.points = points
            self.halfLifeDays = halfLifeDays
            self.mqlThreshold = mqlThreshold
            self.sqlThreshold = sqlThreshold
        }
    }

    /// A channel's frequency cap across all marketing campaigns and its quiet hours in the customer's timezone.
    public struct ChannelPolicy: Sendable, Equatable {
        public var channel: String
        public var cap: Cap?
        public var quietHours: QuietHours?

        public init(channel: String, cap: Cap? = nil, quietHours: QuietHours? = nil) {
            self.channel = channel
            self.cap = cap
            self.quietHours = quietHours
        }

        /// At most `max` marketing messages per `perDays` days.
        public struct Cap: Sendable, Equatable {
            public var max: Int
            public var perDays: Int

            public init(max: Int, perDays: Int) {
                self.max = max
                self.perDays = perDays
            }
        }

        /// No marketing delivery from `start` to `end` local time; start after end wraps midnight.
        public struct QuietHours: Sendable, Equatable {
            public var start: TimeOfDay
            public var end: TimeOfDay

            public init(start: TimeOfDay, end: TimeOfDay) {
                self.start = start
                self.end = end
            }
        }
    }

    /// A local time of day to the minute, written HH:MM.
    public struct TimeOfDay: Sendable, Equatable, CustomStringConvertible {
        public var hour: Int
        public var minute: Int

        public init?(hour: Int, minute: Int) {
            guard (0...23).contains(hour), (0...59).contains(minute) else { return nil }
            self.hour = hour
            self.minute = minute
        }

        /// Reads `H:MM` or `HH:MM` (a trailing `:SS` of zero, as PostgreSQL prints a time, is accepted).
        public init?(_ text: String) {
            var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 3, parts[2] == "00" { parts.removeLast() }
            guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
                  parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                  let hour = Int(parts[0]), let minute = Int(parts[1])
            else { return nil }
            self.init(hour: hour, minute: minute)
        }

        public var description: String {
            (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
        }
    }

    /// A share of all customers excluded from every marketing message, chosen by hashing (salt, customer id).
    public struct GlobalHoldout: Sendable, Equatable {
        public var share: Double
        public var salt: String

        public init(share: Double, salt: String) {
            self.share = share
            self.salt = salt
        }
    }
}
