import CicloCampaigns
import Foundation

/// Campaign files for the tests: one of each kind, all valid, and a way to break them one line at a time.
enum CampaignFixtures {
    static let catalogue = AttributeCatalogue(["tier": .text, "score": .number])

    static let recurring = """
        key: winback-cycle
        name: Win-back cycle
        kind: recurring            # recurring | trigger | experience | adhoc
        channel: email
        status: active
        priority: 5
        starts_at: 2026-01-01T00:00:00Z
        ends_at: 2026-12-31T00:00:00Z
        holdout: 0.10
        stage: At-risk
        offer_family: winback
        transactional: false
        segment: at-risk-players
        exclude: [vip-managed, {attribute: {tier: gold}}]
        variables: {offer_code: COMEBACK10, discount: 1.50}
        recurring:
          schedule: {cron: "0 9 * * *", timezone: Europe/Lisbon}
          cooldown_days: 21
        variants:
          - name: A
            persona: b2c-bargain-hunter
            templates:
              en:
                subject: "We miss you, {{customer.first_name}}"
                html: |
                  <p>Hello {{customer.first_name}},</p>
                  <p>Use {{offer_code}} for 10% off.</p>
                variables: [{name: customer.first_name, default: there}, {name: offer_code}]
              pt:
                subject: "Temos saudades, {{customer.first_name}}"
                html: "<p>Use {{offer_code}}.</p>"
                variables: [{name: customer.first_name, default: ""}, offer_code]
          - name: B
            templates:
              en: {subject: Come back, html: "<p>{{offer_code}}</p>", text: "Code {{offer_code}}", variables: [offer_code]}
        delivery: {email: {from: "Loja <ofertas@example.com>", reply_to: help@example.com}}
        """

    static let trigger = """
        key: first-deposit-thanks
        name: Thanks for the first deposit
        kind: trigger
        channel: sms
        segment: {consent: sms}
        trigger: {event: deposit, filter: {amount: {gte: 10}}, delay: 30m, window: 2d}
        variants:
          - name: thanks
            templates:
              en: {body: "Thanks, {{customer.first_name}}!", variables: [{name: customer.first_name, default: friend}]}
        delivery: {sms: {max_segments: 2, transliterate: true, from: Loja}}
        """

    static let experience = """
        key: game-moments
        name: After a big game
        kind: experience
        channel: push
        holdout: 0.05
        segment: {stage: Active}
        exclude: self-excluded
        experience:
          event: game_result
          tones:
            - {name: big_win, when: {amount: {gte: 1000}}, variant: celebrate}
            - {name: big_loss, when: {amount: {lte: -500}}, variant: comfort}
          delay: 5m
          window: 6h
          cooldown_days: 3
          cap_per_day: 1
        variants:
          - name: celebrate
            templates:
              en: {title: Nice one!, body: What a win., deep_link: "app://games"}
          - name: comfort
            templates:
              en: {body: "Take a break, {{customer.first_name}}.", variables: [{name: customer.first_name, default: ""}]}
        """

    static let adhoc = """
        {"key": "flash-sale", "name": "Flash sale", "kind": "adhoc", "channel": "webhook",
         "segment": {"stage": "Active"}, "adhoc": {"expires_at": "2026-06-30T00:00:00Z"},
         "variants": [{"name": "only", "templates": {"en": {"body": "Sale {{code}}", "variables": [{"name": "code", "default": "X"}]}}}]}
        """

    /// `text` with its first occurrence of `old` replaced; fails loudly if `old` is not there.
    static func replacing(_ old: String, with new: String, in text: String = recurring) -> String {
        precondition(text.contains(old), "the fixture has no \(old)")
        guard let range = text.range(of: old) else { return text }
        return text.replacingCharacters(in: range, with: new)
    }

    /// The 1-based line of the first occurrence of `needle` in `text`.
    static func line(of needle: String, in text: String) -> Int {
        let prefix = text[..<text.range(of: needle)!.lowerBound]
        return prefix.filter(\.isNewline).count + 1
    }
}
