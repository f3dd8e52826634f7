import CicloCampaigns
import CicloScheduler
import Foundation

/// `ciclo campaign show` as text: the definition in a few lines, then templates and decisions.
enum CampaignDescription {
    static func lines(_ details: CampaignDetails) -> [String] {
        let summary = details.summary
        var lines = [
            "\(summary.key): \(summary.name)",
            "  \(summary.kind) · \(summary.channel) · \(summary.status) · priority \(summary.priority)",
        ]
        if let campaign = details.campaign {
            lines += definition(campaign)
        } else if let error = details.definitionError {
            lines.append("  definition: does not read: \(error)")
        }
        if let next = summary.nextRunAt { lines.append("  next run: \(CampaignCommand.timestamp(next))") }
        lines.append("  updated: \(CampaignCommand.timestamp(summary.updatedAt))")
        lines.append("templates (latest versions):")
        if details.templates.isEmpty { lines.append("  (none)") }
        for template in details.templates {
            lines.append("  \(template.variant)/\(template.locale) v\(template.version) "
                + "(\(CampaignCommand.timestamp(template.createdAt)))")
        }
        let exclusions = details.decisions.filter { !["queued", "holdout", "global_holdout"].contains($0.key) }
            .sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        lines.append("decisions: queued \(details.queued), held out \(details.heldOut), excluded \(details.excluded)"
            + (exclusions.isEmpty ? "" : " (\(exclusions.joined(separator: ", ")))"))
        return lines
    }

    static func definition(_ campaign: Campaign) -> [String] {
        var lines: [String] = []
        let window = [campaign.startsAt.map { "from \(CampaignCommand.timestamp($0))" },
                      campaign.endsAt.map { "until \(CampaignCommand.timestamp($0))" }].compactMap { $0 }
        if !window.isEmpty { lines.append("  " + window.joined(separator: " ")) }
        lines.append("  segment: \(segment(campaign.segment))"
            + (campaign.exclude.isEmpty ? "" : "; excluding \(campaign.exclude.map(segment).joined(separator: ", "))"))
        var facts = ["holdout \(campaign.holdoutShare)"]
        if let stage = campaign.stage { facts.append("stage \(stage)") }
        if let family = campaign.offerFamily { facts.append("offer family \(family)") }
        if campaign.transactional { facts.append("transactional") }
        lines.append("  " + facts.joined(separator: " · "))
        if let recurring = campaign.recurring {
            let schedule: String
            switch recurring.schedule {
            case .cron(let cron, let zone): schedule = "cron \"\(cron)\" in \(zone.identifier)"
            case .interval(let seconds): schedule = "every \(seconds)s"
            }
            lines.append("  recurring: \(schedule), cooldown \(recurring.cooldownDays) days")
        }
        if let trigger = campaign.trigger {
            lines.append("  trigger: on \(trigger.eventKind)\(trigger.filter == nil ? "" : " (filtered)"), "
                + "delay \(trigger.delaySeconds)s, window \(trigger.windowSeconds)s")
        }
        if let experience = campaign.experience {
            lines.append("  experience: on \(experience.eventKind), tones "
                + experience.tones.map { "\($0.name)→\($0.variant)" }.joined(separator: ", ")
                + ", cooldown \(experience.cooldownDays) days"
                + (experience.capPerDay.map { ", at most \($0) a day" } ?? ""))
        }
        if let adhoc = campaign.adhoc {
            let expiry = adhoc.expiresAt.map { "expires \(CampaignCommand.timestamp($0))" } ?? "no expiry"
            lines.append("  ad hoc: " + expiry)
        }
        lines.append("  variants: " + campaign.variants.map { variant in
            "\(variant.name) [\(variant.templates.map(\.locale).joined(separator: ", "))]"
        }.joined(separator: ", "))
        return lines
    }

    static func segment(_ reference: SegmentReference) -> String {
        switch reference {
        case .named(let name): return name
        case .inline: return "(inline rule)"
        }
    }
}
