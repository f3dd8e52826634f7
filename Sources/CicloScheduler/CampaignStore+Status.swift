import CicloCampaigns
import Foundation
import Postgres

extension CampaignStore {
    static let lockSQL = "SELECT status, definition, kind FROM campaigns WHERE key = $1 FOR UPDATE"

    /// Resuming a recurring campaign moves next_run_at to its first slot from now: slots missed while it was
    /// paused are not caught up in a burst.
    static let changeSQL = """
        UPDATE campaigns
        SET status = $2, updated_at = now(), next_run_at = CASE WHEN $3::bool THEN $4 ELSE next_run_at END
        WHERE key = $1
        """

    public func pause(key: String) async throws -> Campaign.Status {
        try await change(.pause, key: key, now: Date())
    }

    public func resume(key: String, now: Date = Date()) async throws -> Campaign.Status {
        try await change(.resume, key: key, now: now)
    }

    public func archive(key: String) async throws -> Campaign.Status {
        try await change(.archive, key: key, now: Date())
    }

    /// Applies `command` to the campaign's status under a row lock, so two operators cannot race past the rules.
    public func change(_ command: Campaign.Status.Command, key: String, now: Date) async throws -> Campaign.Status {
        try await connection.withTransaction { conn in
            guard let row = try await conn.query(Self.lockSQL, [key]).first else { throw Self.notFound(key) }
            let current = Campaign.Status(rawValue: try row.decode(String.self, at: 0)) ?? .draft
            let next: Campaign.Status
            switch current.after(command) {
            case .success(let status): next = status
            case .failure(let error):
                throw CampaignStoreError(code: .statusChange, description: "Campaign \(key) \(error.description)")
            }
            var nextRun: Date?
            let kind = try row.decode(String.self, at: 2)
            let resumesRecurring = command == .resume && kind == "recurring"
            if resumesRecurring {
                let campaign: Campaign
                do {
                    let definition = try row.decode(JSONB.self, at: 1).text
                    campaign = try CampaignFile.parse(
                        definition, file: "campaign \(key)", catalogue: try await catalogue())
                } catch let error as ConfigError {
                    throw CampaignStoreError(
                        code: .invalidDefinition,
                        description: "Campaign \(key) cannot resume: its stored definition no longer reads (\(error)); "
                            + "apply its file again")
                }
                nextRun = campaign.firstRun(now: now)
            }
            try await conn.query(Self.changeSQL, [key, next.rawValue, resumesRecurring, nextRun])
            return next
        }
    }
}
