import CicloCampaigns
import Foundation
import Postgres

/// An active campaign as the scheduler sees it: the validated definition plus the row's bookkeeping.
public struct ScheduledCampaign: Sendable {
    public var id: Int64
    public var salt: String
    public var campaign: Campaign
    public var createdAt: Date
    public var nextRunAt: Date?
    public var lastRunAt: Date?
    public var launches: Int
    /// The launch number the scheduler last enqueued (0020_launch_runs.sql).
    public var launchesRun: Int
    /// The objective stage's position in its lifecycle model; earlier stages win ties for the last cap slot.
    public var stagePosition: Int

    /// Campaigns compete for the last slot under a frequency cap in this order: higher priority, then the earlier
    /// stage objective, then the key (a stable tie-break). Passes in a tick run in this order.
    public static func competitionOrder(_ a: ScheduledCampaign, _ b: ScheduledCampaign) -> Bool {
        if a.campaign.priority != b.campaign.priority { return a.campaign.priority > b.campaign.priority }
        if a.stagePosition != b.stagePosition { return a.stagePosition < b.stagePosition }
        return a.campaign.key < b.campaign.key
    }

    /// Whether `now` falls inside the campaign's start and end.
    public func isLive(at now: Date) -> Bool {
        if let start = campaign.startsAt, now < start { return false }
        if let end = campaign.endsAt, now >= end { return false }
        return true
    }

    /// Active campaigns, with the position of their objective stage when the lifecycle tables know it.
    static let activeSQL = """
        SELECT k.id, k.key, coalesce(k.salt, k.key), k.definition::text, k.created_at, k.next_run_at, k.last_run_at, k.launches,
               k.launches_run
        FROM campaigns k
        WHERE k.status = 'active'
        ORDER BY k.key
        """
    static let stagePositionsSQL = "SELECT key, position FROM lifecycle_stages"
    static let catalogueSQL = "SELECT name, type FROM customer_attributes"
    static let segmentsSQL = "SELECT name, definition::text FROM segments"

    /// Loads and validates every active campaign, and the named segments they use. A campaign whose stored
    /// definition no longer validates (the attribute catalogue changed under it) is reported, not run.
    public static func loadActive(on conn: PostgresConnection) async throws
        -> (campaigns: [ScheduledCampaign], segments: [String: Segment], problems: [String])
    {
        let catalogue = try await loadCatalogue(on: conn)
        var segments: [String: Segment] = [:]
        var problems: [String] = []
        for row in try await conn.query(segmentsSQL) {
            let name: String = try row.decode(at: 0)
            do {
                segments[name] = try Segment.parse(
                    try ConfigNode.parse(try row.decode(at: 1), file: "segment \(name)"), catalogue: catalogue)
            } catch {
                problems.append("segment \(name): \(error)")
            }
        }
        let positions = try await stagePositions(on: conn)
        var campaigns: [ScheduledCampaign] = []
        for row in try await conn.query(activeSQL) {
            let key: String = try row.decode(at: 1)
            let campaign: Campaign
            do {
                campaign = try CampaignFile.parse(try row.decode(at: 3), file: "campaign \(key)", catalogue: catalogue)
            } catch {
                problems.append(SchedulerError.badDefinition(campaign: key, problem: "\(error)").description)
                continue
            }
            campaigns.append(ScheduledCampaign(
                id: try row.decode(at: 0), salt: try row.decode(at: 2), campaign: campaign,
                createdAt: try row.decode(at: 4), nextRunAt: try row.decode(at: 5), lastRunAt: try row.decode(at: 6),
                launches: try row.decode(at: 7), launchesRun: try row.decode(at: 8),
                stagePosition: campaign.stage.flatMap { positions[$0] } ?? Int.max))
        }
        campaigns.sort(by: competitionOrder)
        return (campaigns, segments, problems)
    }

    static func loadCatalogue(on conn: PostgresConnection) async throws -> AttributeCatalogue {
        var types: [String: AttributeCatalogue.AttributeType] = [:]
        for row in try await conn.query(catalogueSQL) {
            if let type = AttributeCatalogue.AttributeType(rawValue: try row.decode(at: 1)) {
                types[try row.decode(at: 0)] = type
            }
        }
        return AttributeCatalogue(types)
    }

    static func stagePositions(on conn: PostgresConnection) async throws -> [String: Int] {
        var positions: [String: Int] = [:]
        for row in try await conn.query(stagePositionsSQL) { positions[try row.decode(at: 0)] = try row.decode(at: 1) }
        return positions
    }
}
