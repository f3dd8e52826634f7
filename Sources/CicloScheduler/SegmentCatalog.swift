import CicloCampaigns
import Foundation
import Postgres

/// Named segments in the database: saved as the segment language's canonical JSON (never SQL), read back through
/// the same parser, and counted with a sample of their customers as of any instant.
public struct SegmentCatalog: Sendable {
    /// A segment's size and its first customers by id, as of an instant.
    public struct Count: Sendable {
        public var size: Int64
        public var sample: [SampleCustomer]
    }

    public struct SampleCustomer: Sendable, Equatable {
        public var externalID: String
        public var stage: String?
        public var persona: String?
        public var locale: String
    }

    public init() {}

    /// The attribute catalogue that segments are checked against.
    public func catalogue(on conn: PostgresConnection) async throws -> AttributeCatalogue {
        try await ScheduledCampaign.loadCatalogue(on: conn)
    }

    static let saveSQL = """
        INSERT INTO segments (name, definition) VALUES ($1, $2::jsonb)
        ON CONFLICT (name) DO UPDATE SET definition = EXCLUDED.definition, updated_at = now()
        WHERE segments.definition IS DISTINCT FROM EXCLUDED.definition
        """

    /// Saves (or replaces) a named segment. Returns false when the stored definition was already the same.
    @discardableResult
    public func save(name: String, segment: Segment, on conn: PostgresConnection) async throws -> Bool {
        try await conn.query(Self.saveSQL, [name, segment.json]).affectedRows > 0
    }

    static let loadSQL = "SELECT definition::text FROM segments WHERE name = $1"

    /// A named segment, or nil when there is none. A stored definition that no longer validates (an attribute
    /// left the catalogue) throws the ConfigError, with the segment's name as its file.
    public func load(name: String, catalogue: AttributeCatalogue, on conn: PostgresConnection) async throws -> Segment?
    {
        guard let row = try await conn.query(Self.loadSQL, [name]).first else { return nil }
        return try Segment.parse(
            try ConfigNode.parse(try row.decode(at: 0), file: "segment \(name)"), catalogue: catalogue)
    }

    // $1 is the instant; the segment's own parameters follow. The count is one pass over customers (or over
    // what the segment's indexable leaves select); the sample walks the primary key and stops at the limit.
    static func countSQL(_ condition: String) -> String {
        "SELECT count(*) FROM customers customer WHERE \(condition)"
    }

    static func sampleSQL(_ condition: String) -> String {
        """
        SELECT customer.external_id, customer.stage, customer.persona, customer.locale
        FROM customers customer WHERE \(condition) ORDER BY customer.id LIMIT $2
        """
    }

    /// The segment's size and its first `sample` customers by id as of `now`, read in one snapshot so the sample
    /// agrees with the count.
    public func count(_ segment: Segment, now: Date, sample: Int = 10, on conn: PostgresConnection) async throws
        -> Count
    {
        try await conn.withTransaction(.init(isolation: .repeatableRead, readOnly: true)) { conn in
            var countBuilder = SQLBuilder(firstIndex: 2)
            let countCondition = segment.sql(customer: "customer", now: "$1::timestamptz", into: &countBuilder)
            let size: Int64 = try await conn.query(
                Self.countSQL(countCondition), [now as any PostgresEncodable] + countBuilder.parameters
            ).first!.decode(at: 0)
            guard sample > 0 else { return Count(size: size, sample: []) }
            var sampleBuilder = SQLBuilder(firstIndex: 3)
            let sampleCondition = segment.sql(customer: "customer", now: "$1::timestamptz", into: &sampleBuilder)
            let rows = try await conn.query(
                Self.sampleSQL(sampleCondition), [now as any PostgresEncodable, sample] + sampleBuilder.parameters)
            return Count(
                size: size,
                sample: try rows.map { row in
                    SampleCustomer(
                        externalID: try row.decode(at: 0), stage: try row.decode(at: 1), persona: try row.decode(at: 2),
                        locale: try row.decode(at: 3))
                })
        }
    }
}
