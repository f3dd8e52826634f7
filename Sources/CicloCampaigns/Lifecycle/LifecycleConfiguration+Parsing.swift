extension LifecycleConfiguration {
    /// Reads and validates a lifecycle configuration file (YAML or JSON). Every problem is an error naming the file,
    /// the line and the key path: an unknown field, a transition to an unknown stage, a bad time of day.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> LifecycleConfiguration {
        let root = try ConfigNode.parse(text, file: file).mapping(allowing: [
            "stages", "transitions", "lead_scoring", "attributes", "contact_policy", "global_holdout",
            "provider_limits",
        ])
        let stages = try parseStages(root.required("stages"))
        let scoring = try root["lead_scoring"].map { node throws(ConfigError) in try parseLeadScoring(node) }
        var transitions: [TransitionRule] = []
        if let node = root["transitions"] {
            var names: Set<String> = []
            for item in try node.sequence() {
                let rule = try parseTransition(item, stages: stages, scoring: scoring)
                if !names.insert(rule.name).inserted {
                    throw item.error("duplicate transition name \"\(rule.name)\"")
                }
                transitions.append(rule)
            }
        }
        let attributes = try root["attributes"].map { node throws(ConfigError) in try parseAttributes(node) }
        let policy = try root["contact_policy"].map { node throws(ConfigError) in try parseContactPolicy(node) }
        let holdout = try root["global_holdout"].map { node throws(ConfigError) in try parseGlobalHoldout(node) }
        let limits = try root["provider_limits"].map { node throws(ConfigError) in try parseProviderLimits(node) }
        return LifecycleConfiguration(
            stages: stages, transitions: transitions, leadScoring: scoring,
            attributes: attributes ?? AttributeCatalogue(), contactPolicy: policy ?? [], globalHoldout: holdout,
            providerLimits: limits ?? [])
    }

    /// `provider_limits: {sms: {per_second: 50, burst: 100}}`; the burst defaults to one second's worth.
    static func parseProviderLimits(_ node: ConfigNode) throws(ConfigError) -> [ProviderLimit] {
        var limits: [ProviderLimit] = []
        for (channel, limitNode) in try node.anyMapping().entries {
            guard ProviderLimit.channels.contains(channel) else {
                throw limitNode.error("unknown channel \"\(channel)\"; the channels are: "
                    + ProviderLimit.channels.joined(separator: ", "))
            }
            let fields = try limitNode.mapping(allowing: ["per_second", "burst"])
            let rateNode = try fields.required("per_second")
            let rate = try rateNode.double()
            if !(rate > 0 && rate <= 1_000_000) {
                throw rateNode.error("must be above 0 and at most 1000000 messages per second, found \(rate)")
            }
            let burstNode = fields["burst"]
            let burst = try burstNode?.double() ?? max(1, rate)
            if let burstNode, !(burst >= 1 && burst <= 1_000_000) {
                throw burstNode.error("must be at least 1 and at most 1000000 messages, found \(burst)")
            }
            limits.append(ProviderLimit(channel: channel, perSecond: rate, burst: burst))
        }
        return limits
    }

    /// `stages: {model: [stage, ...]}`; a stage's position is its place in its model's list.
    static func parseStages(_ node: ConfigNode) throws(ConfigError) -> [Stage] {
        let models = try node.anyMapping()
        if models.entries.isEmpty { throw node.error("must define at least one model with its stages") }
        var stages: [Stage] = []
        for (model, list) in models.entries {
            try checkKey(model, at: list, what: "model name")
            let items = try list.sequence()
            if items.isEmpty { throw list.error("model \"\(model)\" has no stages") }
            for (index, item) in items.enumerated() {
                let fields = try item.mapping(allowing: ["key", "name", "description", "objective"])
                let keyNode = try fields.required("key")
                let key = try keyNode.name()
                try checkKey(key, at: keyNode, what: "stage key")
                if key == "any" { throw keyNode.error("\"any\" is reserved for transitions from any stage") }
                if let other = stages.first(where: { $0.key == key }) {
                    throw keyNode.error("duplicate stage \"\(key)\" (already in model \"\(other.model)\")")
                }
                let objective = try fields.required("objective").mapping(
                    allowing: ["kpi", "target", "conversion_kinds"])
                let kpiNode = try objective.required("kpi")
                let kpi = try kpiNode.name()
                try checkKey(kpi, at: kpiNode, what: "KPI name")
                var kinds = Objective.defaultConversionKinds
                if let kindsNode = objective["conversion_kinds"] {
                    kinds = try kindsNode.strings()
                    if kinds.isEmpty { throw kindsNode.error("conversion_kinds is empty; name at least one event kind") }
                    for kind in kinds { try checkKey(kind, at: kindsNode, what: "event kind") }
                    if let twice = kinds.first(where: { k in kinds.filter { $0 == k }.count > 1 }) {
                        throw kindsNode.error("conversion_kinds names \"\(twice)\" twice")
                    }
                }
                stages.append(Stage(
                    key: key, model: model, position: index + 1, name: try fields["name"]?.name() ?? key,
                    description: try fields["description"]?.string(),
                    objective: Objective(
                        kpi: kpi, target: try objective.required("target").double(), conversionKinds: kinds)))
            }
        }
        return stages
    }

    static func parseTransition(_ node: ConfigNode, stages: [Stage], scoring: LeadScoring?)
        throws(ConfigError) -> TransitionRule
    {
        let fields = try node.mapping(
            allowing: ["name", "from", "to", "on_event", "inactive_days", "lead_score_at_least"])
        let nameNode = try fields.required("name")
        let name = try nameNode.name()
        try checkKey(name, at: nameNode, what: "transition name")
        let toNode = try fields.required("to")
        let to = try toNode.name()
        guard stages.contains(where: { $0.key == to }) else { throw unknownStage(to, at: toNode, stages) }
        let fromNode = try fields.required("from")
        let fromText = try fromNode.name()
        var from: String?
        if fromText != "any" {
            guard stages.contains(where: { $0.key == fromText }) else {
                throw unknownStage(fromText, at: fromNode, stages)
            }
            if fromText == to { throw fromNode.error("a rule must move customers to another stage than \"\(to)\"") }
            from = fromText
        }
        let triggers = ["on_event", "inactive_days", "lead_score_at_least"].filter { fields[$0] != nil }
        guard triggers.count == 1 else {
            let found = triggers.isEmpty ? "none" : triggers.joined(separator: " and ")
            throw node.error(
                "needs exactly one trigger of on_event, inactive_days and lead_score_at_least; found \(found)")
        }
        let trigger: TransitionRule.Trigger
        if let event = fields["on_event"] {
            let spec = try event.mapping(allowing: ["kind", "where"])
            let kindNode = try spec.required("kind")
            let kind = try kindNode.name()
            var filter: String?
            if let whereNode = spec["where"] {
                _ = try PayloadFilter.parse(whereNode)
                filter = try whereNode.canonicalJSON()
            }
            trigger = .event(kind: kind, filter: filter)
        } else if let days = fields["inactive_days"] {
            let value = try days.int()
            if value < 1 { throw days.error("must be at least 1 day, found \(value)") }
            trigger = .inactivity(days: value)
        } else {
            let scoreNode = try fields.required("lead_score_at_least")
            if scoring == nil {
                throw scoreNode.error("a lead score trigger needs a lead_scoring section to compute the score")
            }
            trigger = .leadScore(atLeast: try scoreNode.double())
        }
        return TransitionRule(name: name, from: from, to: to, trigger: trigger)
    }

    static func parseLeadScoring(_ node: ConfigNode) throws(ConfigError) -> LeadScoring {
        let fields = try node.mapping(allowing: ["points", "half_life_days", "thresholds"])
        var points: [String: Double] = [:]
        let pointsNode = try fields.required("points")
        for (kind, value) in try pointsNode.anyMapping().entries {
            let amount = try value.double()
            if amount == 0 { throw value.error("points must not be zero; leave the event kind out instead") }
            points[kind] = amount
        }
        if points.isEmpty { throw pointsNode.error("must give points for at least one event kind") }
        let halfLifeNode = try fields.required("half_life_days")
        let halfLife = try halfLifeNode.double()
        if halfLife <= 0 { throw halfLifeNode.error("must be more than 0 days, found \(halfLife)") }
        let thresholds = try fields.required("thresholds").mapping(allowing: ["mql", "sql"])
        let mqlNode = try thresholds.required("mql")
        let sqlNode = try thresholds.required("sql")
        let mql = try mqlNode.double()
        let sql = try sqlNode.double()
        if mql <= 0 { throw mqlNode.error("must be more than 0, found \(mql)") }
        if sql <= mql { throw sqlNode.error("must be above the mql threshold (\(mql)), found \(sql)") }
        return LeadScoring(points: points, halfLifeDays: halfLife, mqlThreshold: mql, sqlThreshold: sql)
    }

    static func parseAttributes(_ node: ConfigNode) throws(ConfigError) -> AttributeCatalogue {
        var types: [String: AttributeCatalogue.AttributeType] = [:]
        for (name, typeNode) in try node.anyMapping().entries {
            try checkKey(name, at: typeNode, what: "attribute name")
            let text = try typeNode.string()
            guard let type = AttributeCatalogue.AttributeType(rawValue: text) else {
                let allowed = AttributeCatalogue.AttributeType.allCases.map(\.rawValue).joined(separator: ", ")
                throw typeNode.error("unknown attribute type \"\(text)\"; expected one of: \(allowed)")
            }
            types[name] = type
        }
        return AttributeCatalogue(types)
    }

    static func parseContactPolicy(_ node: ConfigNode) throws(ConfigError) -> [ChannelPolicy] {
        var policies: [ChannelPolicy] = []
        for (channel, policyNode) in try node.anyMapping().entries {
            try checkKey(channel, at: policyNode, what: "channel name")
            let fields = try policyNode.mapping(allowing: ["cap", "quiet_hours"])
            if fields["cap"] == nil && fields["quiet_hours"] == nil {
                throw policyNode.error("give a cap, quiet_hours or both, or leave the channel out")
            }
            var policy = ChannelPolicy(channel: channel)
            if let capNode = fields["cap"] {
                let cap = try capNode.mapping(allowing: ["max", "per_days"])
                let maxNode = try cap.required("max")
                let perNode = try cap.required("per_days")
                let max = try maxNode.int()
                let per = try perNode.int()
                if max < 1 {
                    throw maxNode.error("must be at least 1 message, found \(max); leave the cap out for none")
                }
                if per < 1 { throw perNode.error("must be at least 1 day, found \(per)") }
                policy.cap = .init(max: max, perDays: per)
            }
            if let quietNode = fields["quiet_hours"] {
                let quiet = try quietNode.mapping(allowing: ["start", "end"])
                let start = try timeOfDay(quiet.required("start"))
                let endNode = try quiet.required("end")
                let end = try timeOfDay(endNode)
                if start == end {
                    throw endNode.error("must differ from the start (\(start)); leave quiet_hours out for none")
                }
                policy.quietHours = .init(start: start, end: end)
            }
            policies.append(policy)
        }
        return policies
    }

    static func parseGlobalHoldout(_ node: ConfigNode) throws(ConfigError) -> GlobalHoldout {
        let fields = try node.mapping(allowing: ["share", "salt"])
        let shareNode = try fields.required("share")
        let share = try shareNode.double()
        if !(share >= 0 && share < 1) { throw shareNode.error("must be at least 0 and below 1, found \(share)") }
        return GlobalHoldout(share: share, salt: try fields.required("salt").name())
    }

    static func timeOfDay(_ node: ConfigNode) throws(ConfigError) -> TimeOfDay {
        let text = try node.string()
        guard let time = TimeOfDay(text) else {
            throw node.error("\"\(text)\" is not a time of day; write HH:MM from 00:00 to 23:59")
        }
        return time
    }

    /// Keys, names and KPIs are identifiers that reports and segments repeat: letters, digits, `_` and `-`.
    static func checkKey(_ text: String, at node: ConfigNode, what: String) throws(ConfigError) {
        let allowed = text.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "_" || $0 == "-"
        }
        if text.isEmpty || !allowed {
            throw node.error("\"\(text)\" is not a valid \(what); use letters, digits, _ and -")
        }
    }

    static func unknownStage(_ key: String, at node: ConfigNode, _ stages: [Stage]) -> ConfigError {
        node.error("unknown stage \"\(key)\"; the stages are: \(stages.map(\.key).joined(separator: ", ")) (or any)")
    }
}
