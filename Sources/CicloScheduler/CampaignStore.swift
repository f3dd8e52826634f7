import CicloCampaigns
import Foundation
import Postgres

/// Campaigns as code, stored: `apply` validates campaign files and upserts them with their templates in one
/// transaction; `list`, `show`, `pause`, `resume` and `archive` manage them; `load` and `loadActive` give the
/// scheduler the campaigns parsed from their stored definition.
public struct CampaignStore: Sendable {
    public let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// A campaign file to apply.
    public struct Source: Sendable {
        public var text: String
        /// The name errors give (the path as the operator typed it).
        public var file: String

        public init(text: String, file: String) {
            self.text = text
            self.file = file
        }
    }

    /// What `apply` did (or, in a dry run, would do) with one file.
    public struct Applied: Sendable, Equatable {
        public enum Change: String, Sendable {
            case created, updated
            /// The stored campaign came from this very file: nothing was written.
            case unchanged
        }
        public var key: String
        public var file: String
        public var change: Change
        public var status: Campaign.Status
        /// The template versions this apply added (new content only; old versions stay).
        public var newTemplates: [TemplateVersion]
        public var nextRunAt: Date?
    }

    public struct TemplateVersion: Sendable, Equatable {
        public var variant: String
        public var locale: String
        public var version: Int
    }

    /// The attribute catalogue segments are checked against: the same read the scheduler and segments use.
    public func catalogue() async throws -> AttributeCatalogue {
        try await ScheduledCampaign.loadCatalogue(on: connection)
    }

    /// Validates every file, then applies them all in one transaction: on any error nothing is written. With
    /// `dryRun` the same work runs and is rolled back, so the answer says exactly what would change.
    public func apply(_ sources: [Source], now: Date = Date(), dryRun: Bool = false) async throws -> [Applied] {
        do {
            return try await connection.withTransaction { conn in
                let catalogue = try await catalogue()
                var documents: [(Source, CampaignDocument)] = []
                for source in sources {
                    let document = try CampaignFile.read(source.text, file: source.file, catalogue: catalogue)
                    if let earlier = documents.first(where: { $0.1.campaign.key == document.campaign.key }) {
                        throw ConfigError(file: source.file, line: nil, path: "key",
                                          problem: "campaign \(document.campaign.key) is also in \(earlier.0.file)")
                    }
                    documents.append((source, document))
                }
                try await checkSegments(documents.flatMap { $0.1.namedSegments }, on: conn)
                var applied: [Applied] = []
                for (source, document) in documents {
                    applied.append(try await upsert(document, source: source, now: now, on: conn))
                }
                if dryRun { throw DryRun(applied: applied) }
                return applied
            }
        } catch let dryRun as DryRun {
            return dryRun.applied
        }
    }

    /// Thrown out of the transaction to roll a dry run back with its answer.
    private struct DryRun: Error {
        var applied: [Applied]
    }

    static let segmentsSQL = "SELECT name FROM segments WHERE name = ANY($1::text[])"

    /// Every named segment must exist: a typo would otherwise target nobody, silently.
    private func checkSegments(_ uses: [SegmentUse], on conn: PostgresConnection) async throws {
        guard !uses.isEmpty else { return }
        let names = Array(Set(uses.map(\.name)))
        let found = Set(try await conn.query(Self.segmentsSQL, [names]).map { try $0.decode(String.self, at: 0) })
        if let missing = uses.first(where: { !found.contains($0.name) }) {
            throw missing.error(
                "no segment named \"\(missing.name)\" exists; define it first, or write the rule inline")
        }
    }

    /// The stored row, locked for the rest of the transaction, and whether it came from this very file.
    static let existingSQL = """
        SELECT id, kind, channel, status, source_sha256 = encode(sha256(convert_to($2, 'UTF8')), 'hex'), next_run_at
        FROM campaigns WHERE key = $1
        FOR UPDATE
        """

    /// Salt is the key on first insert and never changes (holdouts stay put). next_run_at is recomputed only
    /// when what it depends on changed, so an edit of the wording does not skip or repeat a pending slot.
    static let upsertSQL = """
        INSERT INTO campaigns (key, name, kind, channel, status, priority, starts_at, ends_at, holdout_share, stage,
                               offer_family, transactional, definition, source_sha256, salt, next_run_at,
                               attribution_days)
        VALUES ($1, $2, $3, $4, coalesce($5, 'draft'), $6, $7, $8, $9, $10, $11, $12, $13::jsonb,
                encode(sha256(convert_to($14, 'UTF8')), 'hex'), $1, $15, $16)
        ON CONFLICT (key) DO UPDATE SET
            name = EXCLUDED.name, status = coalesce($5, campaigns.status), priority = EXCLUDED.priority,
            starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at, holdout_share = EXCLUDED.holdout_share,
            stage = EXCLUDED.stage, offer_family = EXCLUDED.offer_family, transactional = EXCLUDED.transactional,
            definition = EXCLUDED.definition, source_sha256 = EXCLUDED.source_sha256,
            attribution_days = EXCLUDED.attribution_days,
            next_run_at = CASE
                WHEN EXCLUDED.kind <> 'recurring' THEN NULL
                WHEN campaigns.next_run_at IS NULL
                  OR campaigns.definition -> 'recurring' -> 'schedule'
                     IS DISTINCT FROM EXCLUDED.definition -> 'recurring' -> 'schedule'
                  OR campaigns.starts_at IS DISTINCT FROM EXCLUDED.starts_at
                  OR campaigns.ends_at IS DISTINCT FROM EXCLUDED.ends_at
                THEN EXCLUDED.next_run_at
                ELSE campaigns.next_run_at
            END,
            updated_at = now()
        RETURNING id, (xmax = 0) AS inserted, status, next_run_at
        """

    /// A new version for each variant and locale whose content differs from its latest version (or that has
    /// none); unchanged ones get nothing. The latest versions come from message_templates_latest.
    static let templatesSQL = """
        WITH incoming AS (
            SELECT * FROM jsonb_to_recordset($2::jsonb)
                AS t(variant text, locale text, persona text, parts jsonb, variables jsonb)
        ), latest AS (
            SELECT DISTINCT ON (variant, locale) variant, locale, version, channel, persona, stage, parts, variables
            FROM message_templates
            WHERE campaign_id = $1
            ORDER BY variant, locale, version DESC
        )
        INSERT INTO message_templates (campaign_id, variant, version, locale, channel, persona, stage, parts, variables)
        SELECT $1, i.variant, coalesce(l.version, 0) + 1, i.locale, $3, i.persona, $4, i.parts, i.variables
        FROM incoming i
        LEFT JOIN latest l ON l.variant = i.variant AND l.locale = i.locale
        WHERE l.version IS NULL
           OR (l.channel, l.persona, l.stage, l.parts, l.variables)
              IS DISTINCT FROM ($3, i.persona, $4::text, i.parts, i.variables)
        RETURNING variant, locale, version
        """

    private func upsert(_ document: CampaignDocument, source: Source, now: Date, on conn: PostgresConnection)
        async throws -> Applied
    {
        let campaign = document.campaign
        let existing = try await conn.query(Self.existingSQL, [campaign.key, source.text]).first
        if let existing {
            let status = Campaign.Status(rawValue: try existing.decode(String.self, at: 3)) ?? .draft
            if try existing.decode(Bool?.self, at: 4) == true {
                return Applied(key: campaign.key, file: source.file, change: .unchanged, status: status,
                               newTemplates: [], nextRunAt: try existing.decode(Date?.self, at: 5))
            }
            try Self.checkUpdate(campaign, source: source, kind: try existing.decode(String.self, at: 1),
                                 channel: try existing.decode(String.self, at: 2), status: status)
        }
        let row = try await conn.query(Self.upsertSQL, [
            campaign.key, campaign.name, campaign.kind.rawValue, campaign.channel, campaign.status?.rawValue,
            campaign.priority, campaign.startsAt, campaign.endsAt, campaign.holdoutShare, campaign.stage,
            campaign.offerFamily, campaign.transactional, document.json, source.text, campaign.firstRun(now: now),
            campaign.attributionDays,
        ]).single()
        let id = try row.decode(Int64.self, at: 0)
        let inserted = try row.decode(Bool.self, at: 1)
        let status = Campaign.Status(rawValue: try row.decode(String.self, at: 2)) ?? .draft
        let versions = try await conn.query(
            Self.templatesSQL, [id, try Self.templatesJSON(campaign), campaign.channel, campaign.stage]
        ).map { row in
            TemplateVersion(
                variant: try row.decode(at: 0), locale: try row.decode(at: 1), version: try row.decode(at: 2))
        }
        return Applied(
            key: campaign.key, file: source.file, change: inserted ? .created : .updated, status: status,
            newTemplates: versions.sorted { ($0.variant, $0.locale) < ($1.variant, $1.locale) },
            nextRunAt: try row.decode(Date?.self, at: 3))
    }

    /// An applied file may change a campaign's content, never what its decision log means: its kind and channel.
    static func checkUpdate(_ campaign: Campaign, source: Source, kind: String, channel: String,
                            status: Campaign.Status) throws
    {
        func error(_ path: String, _ problem: String) -> ConfigError {
            ConfigError(file: source.file, line: nil, path: path, problem: problem)
        }
        if status == .archived {
            throw error("key", "campaign \(campaign.key) is archived, which is final; give the campaign a new key")
        }
        if kind != campaign.kind.rawValue {
            throw error("kind", "campaign \(campaign.key) is stored as a \(kind) campaign and its kind cannot change; "
                + "archive it and apply this file under a new key")
        }
        if channel != campaign.channel {
            throw error("channel", "campaign \(campaign.key) is stored as a \(channel) campaign and its channel "
                + "cannot change; archive it and apply this file under a new key")
        }
    }

    /// The templates as message_templates rows want them, one per variant and locale.
    static func templatesJSON(_ campaign: Campaign) throws -> JSONB {
        // The variables' shape is CicloChannels' TemplateVariable, which workers decode: name, and default if any.
        struct Variable: Encodable {
            var name: String
            var `default`: String?
        }
        struct Row: Encodable {
            var variant: String
            var locale: String
            var persona: String?
            var parts: [String: String]
            var variables: [Variable]
        }
        let rows = campaign.variants.flatMap { variant in
            variant.templates.map { template in
                Row(variant: variant.name, locale: template.locale, persona: variant.persona, parts: template.parts,
                    variables: template.variables.map { Variable(name: $0.name, default: $0.defaultValue) })
            }
        }
        return try JSONB(encoding: rows)
    }
}
