import Foundation

/// Reads a campaign file (YAML or JSON) into a validated `Campaign`. Every problem is a `ConfigError` naming the
/// file, the line and the key path; templates are compiled here, so a file that applies renders.
///
/// The store keeps the document's JSON form (`json`) in campaigns.definition and the scheduler parses that again:
/// `parse(json(text))` gives the same campaign as `parse(text)`.
public enum CampaignFile {
    static let fields: Set<String> = [
        "key", "name", "kind", "channel", "status", "priority", "starts_at", "ends_at", "holdout", "stage",
        "offer_family", "transactional", "segment", "exclude", "variables", "variants", "delivery",
        "recurring", "trigger", "experience", "adhoc", "attribution_window",
    ]

    public static func parse(_ text: String, file: String, catalogue: AttributeCatalogue) throws(ConfigError)
        -> Campaign
    {
        try read(text, file: file, catalogue: catalogue).campaign
    }

    /// The document as JSON, for campaigns.definition. The file must at least be a readable document.
    public static func json(_ text: String, file: String) throws(ConfigError) -> String {
        try ConfigNode.parse(text, file: file).json
    }

    /// Parses and validates the file, and keeps what a store needs beside the campaign: the JSON form and the
    /// named segments with their places.
    public static func read(_ text: String, file: String, catalogue: AttributeCatalogue) throws(ConfigError)
        -> CampaignDocument
    {
        let root = try ConfigNode.parse(text, file: file)
        var reader = Reader(catalogue: catalogue)
        let campaign = try reader.campaign(root)
        return CampaignDocument(campaign: campaign, json: root.json, namedSegments: reader.namedSegments)
    }
}

/// A parsed campaign file.
public struct CampaignDocument: Sendable {
    public var campaign: Campaign
    /// The document as JSON, stored as campaigns.definition.
    public var json: String
    /// The named segments the file refers to (`segment:` and `exclude:`), which must exist where it is applied.
    public var namedSegments: [SegmentUse]
}

/// A named segment as a file refers to it, with its place for the error when it does not exist.
public struct SegmentUse: Sendable, Equatable {
    public var name: String
    public var file: String
    public var line: Int?
    public var path: String

    public func error(_ problem: String) -> ConfigError {
        ConfigError(file: file, line: line, path: path, problem: problem)
    }
}

/// Walks one document; collects the named segments on the way.
struct Reader {
    let catalogue: AttributeCatalogue
    var namedSegments: [SegmentUse] = []

    init(catalogue: AttributeCatalogue) {
        self.catalogue = catalogue
    }

    mutating func campaign(_ root: ConfigNode) throws(ConfigError) -> Campaign {
        let map = try root.mapping(allowing: CampaignFile.fields)
        let key = try Self.key(map.required("key"))
        let name = try map.required("name").name()
        let kind = try Self.choice(map.required("kind"), Campaign.Kind.self, "kind")
        let channelNode = try map.required("channel")
        let channel = try Self.choice(channelNode, Campaign.Channel.self, "channel")
        let status = try map["status"].map { node throws(ConfigError) in
            try Self.choice(node, Campaign.Status.self, "status")
        }
        let priority = try map["priority"]?.int() ?? 0
        if !(Int(Int16.min)...Int(Int16.max)).contains(priority) {
            throw map["priority"]!.error("must be between \(Int16.min) and \(Int16.max)")
        }
        let startsAt = try map["starts_at"]?.timestamp()
        let endsAt = try map["ends_at"]?.timestamp()
        if let startsAt, let endsAt, endsAt <= startsAt {
            throw map["ends_at"]!.error("ends before it starts (starts_at \(TimestampText.text(startsAt)), "
                + "ends_at \(TimestampText.text(endsAt)))")
        }
        let holdout = try map["holdout"].map(Self.holdout) ?? 0
        let stage = try map["stage"]?.name()
        let offerFamily = try map["offer_family"]?.name()
        let transactional = try map["transactional"]?.bool() ?? false
        let segment = try segmentReference(map.required("segment"))
        var exclude: [SegmentReference] = []
        if let node = map["exclude"] {
            // One segment or a list of them; a list item may itself be a name or an inline rule.
            if node.isSequence {
                for item in try node.sequence() { exclude.append(try segmentReference(item)) }
            } else {
                exclude.append(try segmentReference(node))
            }
        }
        let variables = try map["variables"].map(Self.variables) ?? [:]

        var variants = try TemplateReader(campaignKey: key, channel: channel).variants(map.required("variants"))
        try DeliveryReader.validate(map["delivery"], channel: channel)

        var campaign = Campaign(
            key: key, name: name, kind: kind, channel: channel.rawValue, status: status, segment: segment,
            priority: priority, startsAt: startsAt, endsAt: endsAt, holdoutShare: holdout, stage: stage,
            offerFamily: offerFamily, transactional: transactional, variants: [], variables: variables,
            exclude: exclude, recurring: nil, trigger: nil, experience: nil, adhoc: nil)

        if let node = map["attribution_window"] {
            let seconds = try node.duration()
            guard seconds % 86_400 == 0, (1...365).contains(seconds / 86_400) else {
                throw node.error("attribution_window is whole days from 1d to 365d, such as 7d")
            }
            campaign.attributionDays = seconds / 86_400
        }

        // Exactly the section of the campaign's kind: another kind's section is a mistake, not something to ignore.
        for other in Campaign.Kind.allCases where other != kind {
            if let section = map[other.rawValue] {
                throw section.error("a \(kind.rawValue) campaign takes no \"\(other.rawValue)\" section; "
                    + "remove it, or set kind: \(other.rawValue)")
            }
        }
        let kinds = KindReader()
        switch kind {
        case .recurring:
            campaign.recurring = try kinds.recurring(Self.section(map, kind))
        case .trigger:
            campaign.trigger = try kinds.trigger(Self.section(map, kind))
        case .experience:
            let experience = try kinds.experience(Self.section(map, kind), variants: variants)
            for tone in experience.tones {
                if let index = variants.firstIndex(where: { $0.name == tone.variant }), variants[index].tone == nil {
                    variants[index].tone = tone.name
                }
            }
            campaign.experience = experience
        case .adhoc:
            campaign.adhoc = try map["adhoc"].map { node throws(ConfigError) in try kinds.adhoc(node) } ?? AdHoc()
            if let expiresAt = campaign.adhoc?.expiresAt, let startsAt, expiresAt <= startsAt {
                throw map["adhoc"]!.error("expires_at is not after starts_at")
            }
        }
        campaign.variants = variants
        return campaign
    }

    private static func section(_ map: ConfigMapping, _ kind: Campaign.Kind) throws(ConfigError) -> ConfigNode {
        guard let node = map[kind.rawValue] else {
            throw map.node.error("a \(kind.rawValue) campaign needs a \"\(kind.rawValue)\" section")
        }
        return node
    }

    /// A segment name, or an inline rule in the segment language.
    private mutating func segmentReference(_ node: ConfigNode) throws(ConfigError) -> SegmentReference {
        if node.isMapping {
            return .inline(try Segment.parse(node, catalogue: catalogue))
        }
        let name = try node.name()
        namedSegments.append(SegmentUse(name: name, file: node.file, line: node.line, path: node.path))
        return .named(name)
    }

    /// Keys name campaigns in commands, logs and idempotency keys: letters, digits, `.`, `_` and `-`.
    private static func key(_ node: ConfigNode) throws(ConfigError) -> String {
        let key = try node.name()
        let allowed = key.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar))
        }
        guard allowed, key.count <= 100, key.first?.isLetter == true || key.first?.isNumber == true else {
            throw node.error("\"\(key)\" is not a usable key; use letters, digits, '.', '_' and '-' "
                + "(starting with a letter or digit, at most 100)")
        }
        return key
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ node: ConfigNode, _ type: T.Type, _ what: String)
        throws(ConfigError) -> T where T.RawValue == String
    {
        let text = try node.string()
        guard let value = T(rawValue: text) else {
            throw node.error("\"\(text)\" is not a \(what); expected one of: "
                + T.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return value
    }

    private static func holdout(_ node: ConfigNode) throws(ConfigError) -> Double {
        let share = try node.double()
        guard share >= 0, share < 1 else {
            throw node.error("holdout is a share of the eligible customers in [0, 1), such as 0.1; found \(share)")
        }
        // campaigns.holdout_share keeps four decimals; more would differ between the row and the file.
        guard abs((share * 10_000).rounded() - share * 10_000) < 1e-6 else {
            throw node.error("holdout has more than four decimals")
        }
        return share
    }

    private static func variables(_ node: ConfigNode) throws(ConfigError) -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in try node.anyMapping().entries {
            guard TemplateReader.isVariableName(name) else {
                throw value.error("\"\(name)\" is not a variable name (letters, digits, _ and dots between them)")
            }
            result[name] = try value.string()
        }
        return result
    }
}
