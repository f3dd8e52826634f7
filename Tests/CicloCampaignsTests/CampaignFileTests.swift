import CicloCampaigns
import Foundation
import Testing

/// Everything a campaign says, as text, so two campaigns can be compared (Segment and PayloadFilter are opaque
/// here; segments compare by their canonical JSON).
func fingerprint(_ campaign: Campaign) -> String {
    func segment(_ reference: SegmentReference) -> String {
        switch reference {
        case .named(let name): return "named:\(name)"
        case .inline(let segment): return "inline:\(segment.json)"
        }
    }
    var lines = [
        "\(campaign.key)|\(campaign.name)|\(campaign.kind)|\(campaign.channel)|\(String(describing: campaign.status))",
        "\(campaign.priority)|\(String(describing: campaign.startsAt))|\(String(describing: campaign.endsAt))",
        "\(campaign.holdoutShare)|\(campaign.stage ?? "-")|\(campaign.offerFamily ?? "-")|\(campaign.transactional)",
        segment(campaign.segment), campaign.exclude.map(segment).joined(separator: ","),
        campaign.variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
    ]
    for variant in campaign.variants {
        lines.append("variant \(variant.name) tone=\(variant.tone ?? "-") persona=\(variant.persona ?? "-")")
        for template in variant.templates {
            lines.append("  \(template.locale) " + template.parts.sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value)" }.joined(separator: "|"))
            lines.append("  vars " + template.variables.map { "\($0.name):\($0.defaultValue ?? "nil")" }
                .joined(separator: ","))
        }
    }
    if let recurring = campaign.recurring {
        switch recurring.schedule {
        case .cron(let cron, let zone): lines.append("cron \(cron.expression) \(zone.identifier)")
        case .interval(let seconds): lines.append("every \(seconds)")
        }
        lines.append("cooldown \(recurring.cooldownDays)")
    }
    if let trigger = campaign.trigger {
        lines.append("trigger \(trigger.eventKind) \(trigger.filter != nil) \(trigger.delaySeconds) \(trigger.windowSeconds)")
    }
    if let experience = campaign.experience {
        lines.append("experience \(experience.eventKind) \(experience.delaySeconds) \(experience.windowSeconds) "
            + "\(experience.cooldownDays) \(String(describing: experience.capPerDay)) "
            + experience.tones.map { "\($0.name)->\($0.variant)" }.joined(separator: ","))
    }
    if let adhoc = campaign.adhoc { lines.append("adhoc \(String(describing: adhoc.expiresAt))") }
    return lines.joined(separator: "\n")
}

@Suite("campaign files: good files")
struct CampaignFileTests {
    let catalogue = CampaignFixtures.catalogue

    @Test("a recurring campaign reads with every field")
    func recurring() throws {
        let campaign = try CampaignFile.parse(CampaignFixtures.recurring, file: "winback.yaml", catalogue: catalogue)
        #expect(campaign.key == "winback-cycle")
        #expect(campaign.kind == .recurring)
        #expect(campaign.channel == "email")
        #expect(campaign.status == .active)
        #expect(campaign.priority == 5)
        #expect(campaign.startsAt == utc("2026-01-01T00:00:00Z"))
        #expect(campaign.endsAt == utc("2026-12-31T00:00:00Z"))
        #expect(campaign.holdoutShare == 0.1)
        #expect(campaign.stage == "At-risk")
        #expect(campaign.family == "winback")
        #expect(campaign.transactional == false)
        guard case .named("at-risk-players") = campaign.segment else {
            Issue.record("the segment is not the named one")
            return
        }
        #expect(campaign.exclude.count == 2)
        #expect(campaign.variables == ["offer_code": "COMEBACK10", "discount": "1.50"], "numbers keep their digits")
        guard case .cron(let cron, let zone)? = campaign.recurring?.schedule else {
            Issue.record("no cron schedule")
            return
        }
        #expect(cron.expression == "0 9 * * *")
        #expect(zone.identifier == "Europe/Lisbon")
        #expect(campaign.recurring?.cooldownDays == 21)
        #expect(campaign.variants.map(\.name) == ["A", "B"])
        #expect(campaign.variants[0].persona == "b2c-bargain-hunter")
        #expect(campaign.variants[0].templates.map(\.locale) == ["en", "pt"])
        let english = campaign.variants[0].templates[0]
        #expect(english.parts.keys.sorted() == ["html", "subject"])
        #expect(english.parts["html"] == "<p>Hello {{customer.first_name}},</p>\n<p>Use {{offer_code}} for 10% off.</p>\n")
        #expect(english.variables.map(\.name) == ["customer.first_name", "offer_code"])
        #expect(english.variables.map(\.defaultValue) == ["there", nil])
        #expect(campaign.variants[0].templates[1].variables.map(\.defaultValue) == ["", nil])
        #expect(campaign.variants[1].templates[0].parts["text"] == "Code {{offer_code}}")
        #expect(campaign.trigger == nil && campaign.experience == nil && campaign.adhoc == nil)
    }

    @Test("the attribution window defaults to seven days and reads whole days")
    func attributionWindow() throws {
        let plain = try CampaignFile.parse(CampaignFixtures.recurring, file: "winback.yaml", catalogue: catalogue)
        #expect(plain.attributionDays == 7)
        let text = CampaignFixtures.replacing("transactional: false", with: "transactional: false\nattribution_window: 2w",
                                              in: CampaignFixtures.recurring)
        #expect(try CampaignFile.parse(text, file: "winback.yaml", catalogue: catalogue).attributionDays == 14)
    }

    @Test("the first run of a recurring campaign is its first slot at or after now and its start")
    func firstRun() throws {
        let campaign = try CampaignFile.parse(CampaignFixtures.recurring, file: "winback.yaml", catalogue: catalogue)
        // Before the start: the first 09:00 Lisbon (UTC+0 in January) on or after 1 January.
        #expect(campaign.firstRun(now: utc("2025-06-01T00:00:00Z")) == utc("2026-01-01T09:00:00Z"))
        // In summer: 09:00 Lisbon is 08:00 UTC; exactly on a slot, that slot.
        #expect(campaign.firstRun(now: utc("2026-07-01T08:00:00Z")) == utc("2026-07-01T08:00:00Z"))
        #expect(campaign.firstRun(now: utc("2026-07-01T08:00:01Z")) == utc("2026-07-02T08:00:00Z"))
        // After the end: none.
        #expect(campaign.firstRun(now: utc("2027-01-01T00:00:00Z")) == nil)
        let every = try CampaignFile.parse(
            CampaignFixtures.replacing(#"{cron: "0 9 * * *", timezone: Europe/Lisbon}"#, with: "{every: 2d}"),
            file: "every.yaml", catalogue: catalogue)
        #expect(every.firstRun(now: utc("2026-01-02T00:00:01Z")) == utc("2026-01-03T00:00:00Z"),
                "intervals count from starts_at")
    }

    @Test("a trigger campaign reads with its filter, delay and window")
    func trigger() throws {
        let campaign = try CampaignFile.parse(CampaignFixtures.trigger, file: "trigger.yaml", catalogue: catalogue)
        #expect(campaign.kind == .trigger)
        #expect(campaign.status == nil, "no status: the store keeps the stored one, or draft")
        #expect(campaign.trigger?.eventKind == "deposit")
        #expect(campaign.trigger?.filter != nil)
        #expect(campaign.trigger?.delaySeconds == 1_800)
        #expect(campaign.trigger?.windowSeconds == 172_800)
        #expect(campaign.holdoutShare == 0)
        #expect(campaign.family == "first-deposit-thanks", "the family defaults to the key")
        guard case .inline = campaign.segment else {
            Issue.record("the segment is not inline")
            return
        }
    }

    @Test("an experience campaign reads its tones and gives each variant its tone")
    func experience() throws {
        let campaign = try CampaignFile.parse(CampaignFixtures.experience, file: "exp.yaml", catalogue: catalogue)
        let experience = try #require(campaign.experience)
        #expect(experience.eventKind == "game_result")
        #expect(experience.tones.map(\.name) == ["big_win", "big_loss"])
        #expect(experience.tones.map(\.variant) == ["celebrate", "comfort"])
        #expect(experience.delaySeconds == 300 && experience.windowSeconds == 21_600)
        #expect(experience.cooldownDays == 3 && experience.capPerDay == 1)
        #expect(campaign.variants.map(\.tone) == ["big_win", "big_loss"])
        #expect(campaign.exclude.count == 1)
    }

    @Test("an ad hoc campaign reads from JSON")
    func adhoc() throws {
        let campaign = try CampaignFile.parse(CampaignFixtures.adhoc, file: "sale.json", catalogue: catalogue)
        #expect(campaign.kind == .adhoc)
        #expect(campaign.channel == "webhook")
        #expect(campaign.adhoc?.expiresAt == utc("2026-06-30T00:00:00Z"))
        let noExpiry = try CampaignFile.parse(
            CampaignFixtures.replacing(#", "adhoc": {"expires_at": "2026-06-30T00:00:00Z"}"#, with: "",
                                       in: CampaignFixtures.adhoc),
            file: "sale.json", catalogue: catalogue)
        #expect(noExpiry.adhoc != nil && noExpiry.adhoc?.expiresAt == nil, "the ad hoc section is optional")
    }

    @Test("the JSON form reads back to the same campaign, for every kind")
    func jsonRoundTrip() throws {
        for (name, text) in [("recurring", CampaignFixtures.recurring), ("trigger", CampaignFixtures.trigger),
                             ("experience", CampaignFixtures.experience), ("adhoc", CampaignFixtures.adhoc)] {
            let json = try CampaignFile.json(text, file: name)
            #expect(try JSONSerialization.jsonObject(with: Data(json.utf8)) is [String: Any], "\(name) is JSON")
            let original = try CampaignFile.parse(text, file: name, catalogue: catalogue)
            let again = try CampaignFile.parse(json, file: name, catalogue: catalogue)
            #expect(fingerprint(again) == fingerprint(original), "\(name)")
        }
    }

    @Test("the JSON form keeps the delivery section and the value types workers read")
    func jsonDelivery() throws {
        let json = try CampaignFile.json(CampaignFixtures.trigger, file: "trigger.yaml")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let delivery = try #require(object["delivery"] as? [String: Any])
        let sms = try #require(delivery["sms"] as? [String: Any])
        #expect(sms["max_segments"] as? Int == 2)
        #expect(sms["transliterate"] as? Bool == true)
        #expect(sms["from"] as? String == "Loja")
        let recurring = try CampaignFile.json(CampaignFixtures.recurring, file: "winback.yaml")
        #expect(recurring.contains(#""holdout":0.10"#), "numbers go out as written")
        #expect(recurring.contains(#""starts_at":"2026-01-01T00:00:00Z""#))
        #expect(recurring.contains(#""transactional":false"#))
        #expect(recurring.contains(#""html":"<p>Hello {{customer.first_name}},</p>\n<p>Use {{offer_code}} for 10% off.</p>\n""#))
    }

    @Test("durations read in their units")
    func durations() throws {
        func seconds(_ text: String) throws -> Int {
            try ConfigNode.parse("d: \(text)", file: "t").anyMapping().required("d").duration()
        }
        #expect(try seconds("45s") == 45)
        #expect(try seconds("30m") == 1_800)
        #expect(try seconds("2h") == 7_200)
        #expect(try seconds("1d") == 86_400)
        #expect(try seconds("1w") == 604_800)
        #expect(try seconds("1h30m") == 5_400)
        #expect(try seconds("0s") == 0)
        for bad in ["30", "30 minutes", "m", "1m1h", "1.5h", "-1h", "1h1h"] {
            #expect(throws: ConfigError.self, "\(bad)") { try seconds(bad) }
        }
    }
}
