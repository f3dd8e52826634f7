import Postgres

/// The retention of raw data, in settings 'raw_retention' as {"days": N}: partitions of deliveries, responses and
/// events that end more than N days ago are dropped. No setting means nothing is dropped.
public enum RetentionSetting {
    static let key = "raw_retention"
    /// The days as text, so that a value that is not a whole number is reported rather than misread.
    static let loadSQL = "SELECT value->>'days' FROM settings WHERE key = $1"
    static let storeSQL = """
        INSERT INTO settings (key, value) VALUES ($1, jsonb_build_object('days', $2::int4))
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()
        WHERE settings.value IS DISTINCT FROM excluded.value
        """

    /// The stored days, nil when there is no setting.
    public static func load(on conn: PostgresConnection) async throws -> Int? {
        guard let row = try await conn.query(loadSQL, [key]).first else { return nil }
        let text: String? = try row.decode(at: 0)
        guard let text, let days = Int(text), MaintenanceOptions.retentionDaysRange.contains(days) else {
            throw MaintenanceError(.badSetting, "the stored setting \(key) is not {\"days\": N} with N from \(MaintenanceOptions.retentionDaysRange.lowerBound) to \(MaintenanceOptions.retentionDaysRange.upperBound); store one with `ciclo maintenance --retention-days N --store-retention`")
        }
        return days
    }

    public static func store(days: Int, on conn: PostgresConnection) async throws {
        try await conn.query(storeSQL, [key, days])
    }

    /// Where complete raw data now starts, for `ciclo report --verify` (CicloReports/Verifier.swift), which
    /// recounts rollups only from there: the first whole UTC day after the cutoff. It only moves forward.
    static let retainedFromSQL = """
        INSERT INTO settings (key, value)
        VALUES ('raw_retained_from', jsonb_build_object('day', (($1::timestamptz AT TIME ZONE 'UTC')::date + 1)::text))
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()
        WHERE (settings.value->>'day')::date < (excluded.value->>'day')::date
        """

    static func markRetainedFrom(cutoff: String, on conn: PostgresConnection) async throws {
        try await conn.query(retainedFromSQL, [cutoff])
    }
}
