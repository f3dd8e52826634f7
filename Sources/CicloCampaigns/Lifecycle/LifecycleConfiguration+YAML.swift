extension LifecycleConfiguration {
    /// The configuration as a file `parse` reads back to an equal value (`ciclo config show`). Free text is
    /// double-quoted; payload filters are written as their JSON, which YAML reads as a flow mapping.
    public func yaml() -> String {
        var lines = ["stages:"]
        for model in models {
            lines.append("  \(Self.key(model)):")
            for stage in stages where stage.model == model {
                lines.append("    - key: \(Self.key(stage.key))")
                lines.append("      name: \(Self.quoted(stage.name))")
                if let description = stage.description {
                    lines.append("      description: \(Self.quoted(description))")
                }
                let (kpi, target) = (Self.key(stage.objective.kpi), Self.number(stage.objective.target))
                let kinds = stage.objective.conversionKinds.map(Self.key).joined(separator: ", ")
                lines.append("      objective: {kpi: \(kpi), target: \(target), conversion_kinds: [\(kinds)]}")
            }
        }
        if !transitions.isEmpty {
            lines.append("transitions:")
            for rule in transitions {
                lines.append("  - name: \(Self.key(rule.name))")
                lines.append("    from: \(Self.key(rule.from ?? "any"))")
                lines.append("    to: \(Self.key(rule.to))")
                switch rule.trigger {
                case .event(let kind, let filter):
                    lines.append("    on_event:")
                    lines.append("      kind: \(Self.key(kind))")
                    if let filter { lines.append("      where: \(filter)") }
                case .inactivity(let days):
                    lines.append("    inactive_days: \(days)")
                case .leadScore(let score):
                    lines.append("    lead_score_at_least: \(Self.number(score))")
                }
            }
        }
        if let scoring = leadScoring {
            lines.append("lead_scoring:")
            lines.append("  points:")
            for kind in scoring.points.keys.sorted() {
                lines.append("    \(Self.key(kind)): \(Self.number(scoring.points[kind]!))")
            }
            lines.append("  half_life_days: \(Self.number(scoring.halfLifeDays))")
            let (mql, sql) = (Self.number(scoring.mqlThreshold), Self.number(scoring.sqlThreshold))
            lines.append("  thresholds: {mql: \(mql), sql: \(sql)}")
        }
        if !attributes.types.isEmpty {
            lines.append("attributes:")
            for name in attributes.types.keys.sorted() {
                lines.append("  \(Self.key(name)): \(attributes.types[name]!.rawValue)")
            }
        }
        if !contactPolicy.isEmpty {
            lines.append("contact_policy:")
            for policy in contactPolicy {
                lines.append("  \(Self.key(policy.channel)):")
                if let cap = policy.cap { lines.append("    cap: {max: \(cap.max), per_days: \(cap.perDays)}") }
                if let quiet = policy.quietHours {
                    lines.append("    quiet_hours: {start: \"\(quiet.start)\", end: \"\(quiet.end)\"}")
                }
            }
        }
        if let holdout = globalHoldout {
            lines.append("global_holdout: {share: \(Self.number(holdout.share)), salt: \(Self.quoted(holdout.salt))}")
        }
        if !providerLimits.isEmpty {
            lines.append("provider_limits:")
            for limit in providerLimits {
                let (rate, burst) = (Self.number(limit.perSecond), Self.number(limit.burst))
                lines.append("  \(limit.channel): {per_second: \(rate), burst: \(burst)}")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Whole numbers without a fraction; others as Swift's shortest exact form.
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// A double-quoted scalar (JSON's escapes are YAML's).
    static func quoted(_ text: String) -> String { ConfigNode.jsonString(text) }

    /// Plain when the text cannot be read as anything but a string; quoted otherwise.
    static func key(_ text: String) -> String {
        let words: Set<String> = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"]
        let plain = text.first.map { $0.isASCII && $0.isLetter } == true
            && text.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-")
            }
            && !words.contains(text.lowercased())
        return plain ? text : quoted(text)
    }
}
