import CicloCampaigns
import Foundation
import Testing

@Suite("Lifecycle configuration files")
struct LifecycleConfigurationTests {
    static var example: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/ciclo.yaml")
    }

    /// Two stages and nothing else; each bad case below adds one mistake to it.
    static let base = """
        stages:
          b2c:
            - key: new
              objective: {kpi: activation_rate, target: 0.6}
            - key: active
              objective: {kpi: monthly_active_rate, target: 0.7}

        """

    func failure(_ text: String) -> ConfigError? {
        do {
            _ = try LifecycleConfiguration.parse(text, file: "bad.yaml")
            return nil
        } catch {
            return error
        }
    }

    @Test("examples/ciclo.yaml reads as the default stages, rules, scoring, catalogue and policy")
    func example() throws {
        let text = try String(contentsOf: Self.example, encoding: .utf8)
        let config = try LifecycleConfiguration.parse(text, file: "ciclo.yaml")
        #expect(config.models == ["b2b", "b2c"])
        #expect(config.stages.filter { $0.model == "b2b" }.map(\.key) == ["attract", "capture", "nurture", "convert", "expand"])
        #expect(config.stages.filter { $0.model == "b2c" }.map(\.key) == ["new", "active", "at_risk", "churned", "reactivated"])
        #expect(config.stage("at_risk")?.position == 3)
        #expect(config.stage("at_risk")?.name == "At-risk")
        #expect(config.stage("convert")?.objective == .init(
            kpi: "conversion_rate", target: 0.2, conversionKinds: ["purchase", "deposit"]))
        #expect(config.stage("nurture")?.objective.conversionKinds == ["demo_request", "trial_start", "sign_up"])
        #expect(config.transitions.count == 11)
        #expect(config.transitions[2] == .init(name: "sales_qualified", from: "nurture", to: "convert",
                                               trigger: .leadScore(atLeast: 100)))
        #expect(config.transitions.last?.trigger == .inactivity(days: 90))
        #expect(config.leadScoring == .init(
            points: ["page_view": 1, "pricing_view": 5, "download": 10, "webinar": 15, "demo_request": 40,
                     "unsubscribe": -20],
            halfLifeDays: 30, mqlThreshold: 50, sqlThreshold: 100))
        #expect(config.attributes == AttributeCatalogue([
            "first_name": .text, "country": .text, "tier": .text, "ltv": .number, "vip": .boolean,
            "favourite_game": .text,
        ]))
        typealias Policy = LifecycleConfiguration.ChannelPolicy
        let night = Policy.QuietHours(start: .init(hour: 21, minute: 0)!, end: .init(hour: 8, minute: 0)!)
        #expect(config.contactPolicy == [
            Policy(channel: "email", cap: .init(max: 3, perDays: 7),
                   quietHours: .init(start: .init(hour: 22, minute: 0)!, end: .init(hour: 8, minute: 0)!)),
            Policy(channel: "sms", cap: .init(max: 2, perDays: 7), quietHours: night),
            Policy(channel: "push", cap: .init(max: 5, perDays: 7), quietHours: night),
        ])
        #expect(config.globalHoldout == .init(share: 0.02, salt: "ciclo-global-holdout-2026"))
        #expect(config.providerLimits == [
            .init(channel: "email", perSecond: 500, burst: 1000), .init(channel: "sms", perSecond: 50, burst: 50),
            .init(channel: "push", perSecond: 1000, burst: 1000),
        ])
    }

    @Test("the YAML that `config show` prints reads back to an equal configuration")
    func roundTrip() throws {
        let text = try String(contentsOf: Self.example, encoding: .utf8)
        var config = try LifecycleConfiguration.parse(text, file: "ciclo.yaml")
        config.transitions.append(.init(
            name: "big_deposit", from: "active", to: "reactivated",
            trigger: .event(kind: "deposit", filter: #"{"amount":{"gte":100},"currency":"EUR \"x\""}"#)))
        config.stages[0].description = "Quotes \" and: colons, # hashes\nand lines"
        config.globalHoldout?.salt = "yes"
        let again = try LifecycleConfiguration.parse(config.yaml(), file: "shown.yaml")
        #expect(again == config)
    }

    @Test("a JSON file reads like its YAML twin; a payload filter is kept as canonical JSON")
    func json() throws {
        let json = """
            {"stages": {"b2c": [{"key": "new", "objective": {"kpi": "activation_rate", "target": 0.6}},
                                {"key": "active", "objective": {"kpi": "monthly_active_rate", "target": 0.7}}]},
             "transitions": [{"name": "first_deposit", "from": "any", "to": "active",
                              "on_event": {"kind": "deposit", "where": {"currency": "EUR", "amount": {"gte": 10}}}}]}
            """
        let config = try LifecycleConfiguration.parse(json, file: "ciclo.json")
        #expect(config.transitions == [.init(
            name: "first_deposit", from: nil, to: "active",
            trigger: .event(kind: "deposit", filter: #"{"amount":{"gte":10},"currency":"EUR"}"#))])
        #expect(config.stage("active")?.name == "active")
    }

    @Test("an unknown field is an error naming it, its line and its path")
    func unknownField() {
        let top = failure(Self.base + "lead_scorng: {}\n")
        #expect(top?.line == 7)
        #expect(top?.description.contains("unknown field \"lead_scorng\"") == true)
        let nested = failure(Self.base + "contact_policy:\n  sms:\n    cap: {max: 2, per_day: 7}\n")
        #expect(nested?.description.hasPrefix("bad.yaml:9: contact_policy.sms.cap: unknown field \"per_day\"") == true)
    }

    @Test("a transition to or from an unknown stage is an error listing the stages")
    func unknownStage() {
        let to = failure(Self.base + "transitions:\n  - {name: r, from: new, to: activ, inactive_days: 3}\n")
        #expect(to?.description.contains("transitions[0].to: unknown stage \"activ\"; the stages are: new, active") == true)
        let from = failure(Self.base + "transitions:\n  - {name: r, from: old, to: active, inactive_days: 3}\n")
        #expect(from?.description.contains("unknown stage \"old\"") == true)
        #expect(from?.line == 8)
    }

    @Test("quiet hours at 25:00 are an error")
    func badTime() {
        let error = failure(Self.base + "contact_policy:\n  sms:\n    quiet_hours: {start: \"25:00\", end: \"08:00\"}\n")
        #expect(error?.description == "bad.yaml:9: contact_policy.sms.quiet_hours.start: \"25:00\" is not a time of day; write HH:MM from 00:00 to 23:59")
        #expect(failure(Self.base + "contact_policy:\n  sms:\n    quiet_hours: {start: \"21:60\", end: \"08:00\"}\n") != nil)
        #expect(failure(Self.base + "contact_policy:\n  sms:\n    quiet_hours: {start: 21:00, end: 21:00}\n")?
            .description.contains("must differ from the start") == true)
    }

    @Test("a cap of 0 messages is an error")
    func capZero() {
        let error = failure(Self.base + "contact_policy:\n  email:\n    cap: {max: 0, per_days: 7}\n")
        #expect(error?.path == "contact_policy.email.cap.max")
        #expect(error?.description.contains("must be at least 1 message, found 0") == true)
        #expect(failure(Self.base + "contact_policy:\n  email:\n    cap: {max: 3, per_days: 0}\n") != nil)
        #expect(failure(Self.base + "contact_policy:\n  email: {}\n") != nil)
    }

    @Test("provider limits: a rate per channel with a burst (one second's worth by default); bad ones are errors")
    func providerLimits() throws {
        let good = try LifecycleConfiguration.parse(
            Self.base + "provider_limits:\n  sms: {per_second: 0.5}\n  webhook: {per_second: 20, burst: 60}\n",
            file: "good.yaml")
        #expect(good.providerLimits == [.init(channel: "sms", perSecond: 0.5, burst: 1),
                                        .init(channel: "webhook", perSecond: 20, burst: 60)])
        let unknown = failure(Self.base + "provider_limits:\n  fax: {per_second: 1}\n")
        #expect(unknown?.description
            == "bad.yaml:8: provider_limits.fax: unknown channel \"fax\"; the channels are: email, sms, push, webhook")
        let zero = failure(Self.base + "provider_limits:\n  sms: {per_second: 0}\n")
        #expect(zero?.path == "provider_limits.sms.per_second")
        #expect(zero?.description.contains("must be above 0 and at most 1000000 messages per second, found 0") == true)
        #expect(failure(Self.base + "provider_limits:\n  sms: {per_second: 5, burst: 0.5}\n")?
            .description.contains("provider_limits.sms.burst: must be at least 1") == true)
        #expect(failure(Self.base + "provider_limits:\n  sms: {burst: 5}\n")?
            .description.contains("missing required field \"per_second\"") == true)
        #expect(failure(Self.base + "provider_limits:\n  sms: {per_second: 5, rate: 5}\n")?
            .description.contains("unknown field \"rate\"") == true)
        #expect(failure(Self.base + "provider_limits:\n  sms: {per_second: fast}\n") != nil)
    }

    @Test("conversion kinds per objective: the default when absent; an empty, repeated or malformed one is an error")
    func conversionKinds() throws {
        let plain = try LifecycleConfiguration.parse(Self.base, file: "good.yaml")
        #expect(plain.stage("new")?.objective.conversionKinds == ["purchase", "deposit", "sign_up"])
        let set = try LifecycleConfiguration.parse(
            Self.base.replacingOccurrences(
                of: "{kpi: activation_rate, target: 0.6}",
                with: "{kpi: activation_rate, target: 0.6, conversion_kinds: [first_deposit, sign_up]}"),
            file: "good.yaml")
        #expect(set.stage("new")?.objective.conversionKinds == ["first_deposit", "sign_up"])
        #expect(try LifecycleConfiguration.parse(set.yaml(), file: "shown.yaml") == set)

        for (kinds, message) in [
            ("[]", "conversion_kinds is empty"), ("[purchase, purchase]", "names \"purchase\" twice"),
            ("[\"big purchase\"]", "\"big purchase\" is not a valid event kind"),
            ("{a: 1}", "expected a list"),
        ] {
            let error = failure(Self.base.replacingOccurrences(
                of: "{kpi: activation_rate, target: 0.6}",
                with: "{kpi: activation_rate, target: 0.6, conversion_kinds: \(kinds)}"))
            #expect(error?.description.contains(message) == true, "\(kinds): \(String(describing: error))")
            #expect(error?.description.contains("bad.yaml:") == true, "\(kinds): \(String(describing: error))")
        }
    }

    @Test("a global holdout share of 1.5 is an error")
    func shareTooLarge() {
        let error = failure(Self.base + "global_holdout: {share: 1.5, salt: s}\n")
        #expect(error?.description == "bad.yaml:7: global_holdout.share: must be at least 0 and below 1, found 1.5")
        #expect(failure(Self.base + "global_holdout: {share: 0.02}\n")?.description.contains("missing required field \"salt\"") == true)
    }

    @Test("a stage defined twice is an error, even across models")
    func duplicateStage() {
        let error = failure(Self.base + "  b2b:\n    - key: active\n      objective: {kpi: k, target: 1}\n")
        #expect(error?.line == 8)
        #expect(error?.description.contains("duplicate stage \"active\" (already in model \"b2c\")") == true)
    }

    @Test("other mistakes: two triggers, none, a score rule without scoring, thresholds out of order, a bad type")
    func otherMistakes() {
        #expect(failure(Self.base + "transitions:\n  - {name: r, from: new, to: active, inactive_days: 3, lead_score_at_least: 5}\n")?
            .description.contains("needs exactly one trigger") == true)
        #expect(failure(Self.base + "transitions:\n  - {name: r, from: new, to: active}\n")?
            .description.contains("found none") == true)
        #expect(failure(Self.base + "transitions:\n  - {name: r, from: new, to: active, lead_score_at_least: 5}\n")?
            .description.contains("needs a lead_scoring section") == true)
        #expect(failure(Self.base + "transitions:\n  - {name: r, from: new, to: new, inactive_days: 3}\n")?
            .description.contains("another stage") == true)
        #expect(failure(Self.base + "transitions:\n  - {name: r, from: new, to: active, inactive_days: 0}\n") != nil)
        #expect(failure(Self.base + "transitions:\n  - {name: r, from: any, to: active, inactive_days: 3}\n  - {name: r, from: new, to: active, inactive_days: 3}\n")?
            .description.contains("duplicate transition name \"r\"") == true)
        #expect(failure(Self.base + "lead_scoring: {points: {a: 1}, half_life_days: 30, thresholds: {mql: 100, sql: 50}}\n")?
            .description.contains("thresholds.sql: must be above the mql threshold") == true)
        #expect(failure(Self.base + "lead_scoring: {points: {a: 0}, half_life_days: 30, thresholds: {mql: 1, sql: 2}}\n") != nil)
        #expect(failure(Self.base + "lead_scoring: {points: {a: 1}, half_life_days: 0, thresholds: {mql: 1, sql: 2}}\n") != nil)
        #expect(failure(Self.base + "attributes: {ltv: money}\n")?
            .description.contains("unknown attribute type \"money\"; expected one of: text, number, boolean, date, list") == true)
        #expect(failure("transitions: []\n")?.description.contains("missing required field \"stages\"") == true)
        #expect(failure(Self.base.replacingOccurrences(of: "key: new", with: "key: \"new stage\"")) != nil)
        #expect(failure(Self.base.replacingOccurrences(of: "key: new", with: "key: any")) != nil)
    }
}
