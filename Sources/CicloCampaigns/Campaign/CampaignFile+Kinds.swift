import Foundation

/// The section each kind adds: a schedule, a trigger, an experience, an ad hoc expiry.
struct KindReader {
    func recurring(_ node: ConfigNode) throws(ConfigError) -> Recurring {
        let map = try node.mapping(allowing: ["schedule", "cooldown_days"])
        let scheduleNode = try map.required("schedule")
        let schedule = try scheduleNode.mapping(allowing: ["cron", "every", "timezone"])
        let cooldown = try map.required("cooldown_days")
        let cooldownDays = try cooldown.int()
        guard cooldownDays >= 0 else { throw cooldown.error("must be 0 or more days") }
        switch (schedule["cron"], schedule["every"]) {
        case (let cron?, nil):
            let text = try cron.string()
            let parsed: CronSchedule
            do throws(CronError) {
                parsed = try CronSchedule.parse(text)
            } catch {
                throw cron.error("\"\(text)\" is not a valid cron expression: \(error)")
            }
            let zone = try schedule["timezone"]?.timeZone() ?? TimeZone(identifier: "UTC")!
            return Recurring(schedule: .cron(parsed, timeZone: zone), cooldownDays: cooldownDays)
        case (nil, let every?):
            if let zone = schedule["timezone"] {
                throw zone.error("a timezone applies to cron schedules only; an interval counts from starts_at")
            }
            let seconds = try every.duration()
            guard seconds >= 60 else { throw every.error("an interval is at least 1m") }
            return Recurring(schedule: .interval(seconds: seconds), cooldownDays: cooldownDays)
        case (.some, .some):
            throw scheduleNode.error("give either cron or every, not both")
        case (nil, nil):
            throw scheduleNode.error("needs cron (such as \"0 9 * * *\") or every (such as 1d)")
        }
    }

    func trigger(_ node: ConfigNode) throws(ConfigError) -> Trigger {
        let map = try node.mapping(allowing: ["event", "filter", "delay", "window"])
        let event = try map.required("event").name()
        let filter = try map["filter"].map { node throws(ConfigError) in try PayloadFilter.parse(node) }
        let (delay, window) = try timing(map)
        return Trigger(eventKind: event, filter: filter, delaySeconds: delay, windowSeconds: window)
    }

    func experience(_ node: ConfigNode, variants: [Variant]) throws(ConfigError) -> Experience {
        let map = try node.mapping(allowing: ["event", "tones", "delay", "window", "cooldown_days", "cap_per_day"])
        let event = try map.required("event").name()
        let tonesNode = try map.required("tones")
        var tones: [Experience.Tone] = []
        for item in try tonesNode.sequence() {
            let tone = try item.mapping(allowing: ["name", "when", "variant"])
            let nameNode = try tone.required("name")
            let name = try nameNode.name()
            if tones.contains(where: { $0.name == name }) { throw nameNode.error("tone \"\(name)\" is given twice") }
            let when = try PayloadFilter.parse(tone.required("when"))
            let variantNode = try tone.required("variant")
            let variant = try variantNode.name()
            guard variants.contains(where: { $0.name == variant }) else {
                throw variantNode.error("tone \"\(name)\" names variant \"\(variant)\", which does not exist; "
                    + "the variants are: \(variants.map(\.name).joined(separator: ", "))")
            }
            tones.append(Experience.Tone(name: name, when: when, variant: variant))
        }
        if tones.isEmpty { throw tonesNode.error("an experience campaign needs at least one tone") }
        let (delay, window) = try timing(map)
        let cooldownDays = try map["cooldown_days"]?.int() ?? 0
        if cooldownDays < 0 { throw map["cooldown_days"]!.error("must be 0 or more days") }
        let cap = try map["cap_per_day"]?.int()
        if let cap, cap < 1 { throw map["cap_per_day"]!.error("must be 1 or more") }
        return Experience(eventKind: event, tones: tones, delaySeconds: delay, windowSeconds: window,
                          cooldownDays: cooldownDays, capPerDay: cap)
    }

    func adhoc(_ node: ConfigNode) throws(ConfigError) -> AdHoc {
        let map = try node.mapping(allowing: ["expires_at"])
        return AdHoc(expiresAt: try map["expires_at"]?.timestamp())
    }

    /// delay (default none) and window: a send due after its window would be irrelevant, so the window must
    /// leave room after the delay.
    private func timing(_ map: ConfigMapping) throws(ConfigError) -> (delay: Int, window: Int) {
        let delay = try map["delay"]?.duration() ?? 0
        let windowNode = try map.required("window")
        let window = try windowNode.duration()
        guard window > delay else {
            throw windowNode.error("the window (\(DurationText.text(window))) must be longer than the delay "
                + "(\(DurationText.text(delay))), or every send would expire")
        }
        return (delay, window)
    }
}
