import CicloCampaigns
import Foundation
import Postgres

/// A campaign as stored: its definition parsed again, and the row fields the scheduler needs.
public struct StoredCampaign: Sendable {
    public var id: Int64
    public var key: String
    public var status: Campaign.Status
    /// Holdout hashing salt: the key the campaign was first applied under.
    public var salt: String
    public var nextRunAt: Date?
    public var lastRunAt: Date?
    /// Ad hoc: how many times it was launched.
    public var launches: Int
    public var updatedAt: Date
    public var campaign: Campaign
}

/// The campaigns the scheduler runs, and those whose stored definition no longer reads (an attribute dropped
/// from the catalogue since it was applied): one broken campaign does not stop the others.
public struct ActiveCampaigns: Sendable {
    public var campaigns: [StoredCampaign]
    public var failures: [CampaignStoreError]
}

/// One line of `ciclo campaign list`.
public struct CampaignSummary: Sendable, Equatable {
    public var key: String
    public var name: String
    public var kind: String
    public var channel: String
    public var status: String
    public var priority: Int
    public var nextRunAt: Date?
    public var updatedAt: Date
}

/// What `ciclo campaign show` prints.
public struct CampaignDetails: Sendable {
    public struct Template: Sendable, Equatable {
        public var variant: String
        public var locale: String
        public var version: Int
        public var createdAt: Date
    }
    public var summary: CampaignSummary
    /// The parsed definition; nil when it no longer reads, with the reason in `definitionError`.
    public var campaign: Campaign?
    public var definitionError: String?
    /// The latest version of each variant and locale.
    public var templates: [Template]
    /// Decisions by outcome (queued, holdout, and the exclusions: no_consent, cooldown, capped...).
    public var decisions: [String: Int]

    public var queued: Int { decisions["queued", default: 0] }
    public var heldOut: Int { decisions["holdout", default: 0] + decisions["global_holdout", default: 0] }
    public var excluded: Int { decisions.values.reduce(0, +) - queued - heldOut }
}

/// A campaign that is not there, or a status change that cannot happen.
public struct CampaignStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case notFound, statusChange, invalidDefinition
    }
    public var code: Code
    public var description: String
}

extension CampaignStore {
    static let summaryColumns = "key, name, kind, channel, status, priority, next_run_at, updated_at"

    static let listSQL = """
        SELECT \(summaryColumns) FROM campaigns
        WHERE $1::text IS NULL OR status = $1
        ORDER BY key
        """

    public func list(status: Campaign.Status? = nil) async throws -> [CampaignSummary] {
        try await connection.query(Self.listSQL, [status?.rawValue]).map(Self.summary)
    }

    static func summary(_ row: PostgresRow) throws -> CampaignSummary {
        CampaignSummary(
            key: try row.decode(at: 0), name: try row.decode(at: 1), kind: try row.decode(at: 2),
            channel: try row.decode(at: 3), status: try row.decode(at: 4),
            priority: Int(try row.decode(Int16.self, at: 5)),
            nextRunAt: try row.decode(at: 6), updatedAt: try row.decode(at: 7))
    }

    static let storedColumns = "id, key, status, coalesce(salt, key), next_run_at, last_run_at, launches, updated_at, definition"
    static let loadSQL = "SELECT \(storedColumns) FROM campaigns WHERE key = $1"
    static let activeSQL = "SELECT \(storedColumns) FROM campaigns WHERE status = 'active' ORDER BY priority DESC, id"

    /// The campaign with this key, or nil. Throws `.invalidDefinition` when its definition no longer reads.
    public func load(key: String) async throws -> StoredCampaign? {
        guard let row = try await connection.query(Self.loadSQL, [key]).first else { return nil }
        return try Self.stored(row, catalogue: try await catalogue())
    }

    /// Every active campaign, highest priority first.
    public func loadActive() async throws -> ActiveCampaigns {
        let catalogue = try await catalogue()
        var result = ActiveCampaigns(campaigns: [], failures: [])
        for row in try await connection.query(Self.activeSQL) {
            do {
                result.campaigns.append(try Self.stored(row, catalogue: catalogue))
            } catch let error as CampaignStoreError {
                result.failures.append(error)
            }
        }
        return result
    }

    static func stored(_ row: PostgresRow, catalogue: AttributeCatalogue) throws -> StoredCampaign {
        let key = try row.decode(String.self, at: 1)
        let definition = try row.decode(JSONB.self, at: 8)
        let campaign: Campaign
        do {
            campaign = try CampaignFile.parse(definition.text, file: "campaign \(key)", catalogue: catalogue)
        } catch {
            throw CampaignStoreError(
                code: .invalidDefinition,
                description: "The stored definition of campaign \(key) no longer reads (\(error)); "
                    + "apply its file again")
        }
        return StoredCampaign(
            id: try row.decode(at: 0), key: key,
            status: Campaign.Status(rawValue: try row.decode(String.self, at: 2)) ?? .draft,
            salt: try row.decode(at: 3), nextRunAt: try row.decode(at: 4), lastRunAt: try row.decode(at: 5),
            launches: try row.decode(at: 6), updatedAt: try row.decode(at: 7), campaign: campaign)
    }

    static let showSQL = "SELECT \(summaryColumns), id, definition FROM campaigns WHERE key = $1"

    /// Latest version per variant and locale, through message_templates_latest.
    static let latestTemplatesSQL = """
        SELECT DISTINCT ON (variant, locale) variant, locale, version, created_at
        FROM message_templates WHERE campaign_id = $1
        ORDER BY variant, locale, version DESC
        """

    static let decisionsSQL = "SELECT outcome, count(*) FROM send_decisions WHERE campaign_id = $1 GROUP BY outcome"

    public func show(key: String) async throws -> CampaignDetails {
        guard let row = try await connection.query(Self.showSQL, [key]).first else { throw Self.notFound(key) }
        let id = try row.decode(Int64.self, at: 8)
        var details = CampaignDetails(summary: try Self.summary(row), campaign: nil, definitionError: nil,
                                      templates: [], decisions: [:])
        do {
            details.campaign = try CampaignFile.parse(
                try row.decode(JSONB.self, at: 9).text, file: "campaign \(key)", catalogue: try await catalogue())
        } catch let error as ConfigError {
            details.definitionError = error.description
        }
        details.templates = try await connection.query(Self.latestTemplatesSQL, [id]).map { row in
            CampaignDetails.Template(variant: try row.decode(at: 0), locale: try row.decode(at: 1),
                                     version: try row.decode(at: 2), createdAt: try row.decode(at: 3))
        }
        for row in try await connection.query(Self.decisionsSQL, [id]) {
            details.decisions[try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 1)
        }
        return details
    }

    static func notFound(_ key: String) -> CampaignStoreError {
        CampaignStoreError(
            code: .notFound, description: "No campaign has the key \(key); `ciclo campaign list` shows them")
    }
}
