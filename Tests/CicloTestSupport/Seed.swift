import Postgres

/// Test data written with set-based SQL, the way production data arrives.
public enum Seed {
    /// `count` customers with email consent (every `withoutConsentEvery`-th one without); returns their ids.
    @discardableResult
    public static func customers(_ count: Int, withoutConsentEvery: Int = 0, on conn: PostgresConnection)
        async throws -> [Int64]
    {
        let ids = try await conn.query("""
            INSERT INTO customers (external_id, email, timezone)
            SELECT 'cust-' || g || '-' || md5(random()::text), 'c' || g || '@example.com', 'Europe/Lisbon'
            FROM generate_series(1, $1::int8) g
            RETURNING id
            """, [count]).map { try $0.decode(Int64.self, at: 0) }
        try await conn.query("""
            INSERT INTO consents (customer_id, channel, granted)
            SELECT id, 'email', ($2::int8 = 0 OR ord % $2::int8 <> 0)
            FROM unnest($1::int8[]) WITH ORDINALITY AS t(id, ord)
            """, [ids, withoutConsentEvery])
        return ids
    }

    /// One due email job per customer id, keys `<prefix>-<customer>`; returns the job ids.
    @discardableResult
    public static func jobs(
        for customers: [Int64], prefix: String = "job", channel: String = "email", maxAttempts: Int = 5,
        on conn: PostgresConnection
    ) async throws -> [Int64] {
        try await conn.pipeline([
            .init("INSERT INTO send_keys (idempotency_key) SELECT $2 || '-' || c FROM unnest($1::int8[]) c",
                  [customers, prefix]),
            .init("""
                INSERT INTO send_jobs (idempotency_key, customer_id, channel, max_attempts)
                SELECT $2 || '-' || c, c, $3, $4::int4 FROM unnest($1::int8[]) c
                RETURNING id
                """, [customers, prefix, channel, maxAttempts]),
        ])[1].map { try $0.decode(Int64.self, at: 0) }
    }
}
