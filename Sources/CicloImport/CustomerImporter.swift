import Foundation
import Postgres

/// `ciclo customers import`: a CSV or JSON Lines file of customers, upserted by external id.
///
/// The file is streamed through COPY into a temporary staging table (bad rows too, with their reason), then merged
/// into `customers` and `consents` by one set-based statement, all in one transaction: a crash or an error leaves
/// nothing half-applied. The merge never loses what is stored: a field a row does not give keeps its value,
/// attributes merge key by key (`stored || new`), `last_seen_at` only moves forward, and consent changes only for
/// the channels a row names. When an external id appears on several lines, the last one wins and the earlier ones
/// are reported as rejected.
public struct CustomerImporter: Sendable {
    public var options: ImportOptions

    public init(options: ImportOptions = .init()) {
        self.options = options
    }

    // Temporary, so concurrent imports on other connections never see each other's rows, and dropped at commit.
    static let createStagingSQL = """
        CREATE TEMP TABLE import_customers (
            line bigint NOT NULL,
            reason text,
            external_id text, email text, phone text, push_token text, locale text, timezone text,
            stage text, persona text, product_preferences text[], attributes jsonb,
            consent_email boolean, consent_sms boolean, consent_push boolean, consent_webhook boolean,
            last_seen_at timestamptz
        ) ON COMMIT DROP
        """
    static let copySQL = "COPY import_customers FROM STDIN"
    static let analyzeSQL = "ANALYZE import_customers"

    /// The last line of an external id wins; the earlier ones become rejects that name the line that replaced them.
    static let markRepeatsSQL = """
        UPDATE import_customers s
        SET reason = format('external_id %s appears again on line %s, which replaces this row',
                            to_jsonb(left(s.external_id, 60))::text, r.later)
        FROM (SELECT line, lead(line) OVER (PARTITION BY external_id ORDER BY line) AS later
              FROM import_customers WHERE reason IS NULL) r
        WHERE s.line = r.line AND r.later IS NOT NULL
        """

    /// Serves the upsert's look-up of a staged row from the conflicting customer.
    static let indexSQL = "CREATE UNIQUE INDEX ON import_customers (external_id) WHERE reason IS NULL"

    /// The merge. `locale`, `timezone` and `product_preferences` are NOT NULL with defaults, so EXCLUDED cannot
    /// tell "not given" from the default; for an existing customer they are read from the staged row (through the
    /// index above). Consents join the upserted rows, so new customers get theirs in the same statement; an
    /// unchanged consent keeps its updated_at, which records when it was given. `xmax = 0` marks inserted rows.
    /// Rows go in external_id order, so two imports touching the same customers lock them in the same order and
    /// cannot deadlock.
    static let upsertSQL = """
        WITH upserted AS (
            INSERT INTO customers AS c (external_id, email, phone, push_token, locale, timezone, stage, persona,
                                        product_preferences, attributes, last_seen_at)
            SELECT external_id, email, phone, push_token, coalesce(locale, 'en'), coalesce(timezone, 'UTC'),
                   stage, persona, coalesce(product_preferences, '{}'), coalesce(attributes, '{}'), last_seen_at
            FROM import_customers
            WHERE reason IS NULL
            ORDER BY external_id
            ON CONFLICT (external_id) DO UPDATE SET
                email = coalesce(EXCLUDED.email, c.email),
                phone = coalesce(EXCLUDED.phone, c.phone),
                push_token = coalesce(EXCLUDED.push_token, c.push_token),
                stage = coalesce(EXCLUDED.stage, c.stage),
                -- An import that moves a customer to another stage starts the stage's clock, as a transition does:
                -- event rules read only what happened after it.
                stage_changed_at = CASE WHEN EXCLUDED.stage IS DISTINCT FROM c.stage AND EXCLUDED.stage IS NOT NULL
                                        THEN now() ELSE c.stage_changed_at END,
                persona = coalesce(EXCLUDED.persona, c.persona),
                attributes = c.attributes || EXCLUDED.attributes,
                last_seen_at = greatest(c.last_seen_at, EXCLUDED.last_seen_at),
                (locale, timezone, product_preferences) = (
                    SELECT coalesce(s.locale, c.locale), coalesce(s.timezone, c.timezone),
                           coalesce(s.product_preferences, c.product_preferences)
                    FROM import_customers s
                    WHERE s.external_id = EXCLUDED.external_id AND s.reason IS NULL),
                updated_at = now()
            RETURNING c.id, c.external_id, c.xmax = 0 AS inserted
        ),
        consented AS (
            INSERT INTO consents AS k (customer_id, channel, granted, source)
            SELECT u.id, g.channel, g.granted, $1::text
            FROM upserted u
            JOIN import_customers s ON s.external_id = u.external_id AND s.reason IS NULL
            CROSS JOIN LATERAL (VALUES ('email', s.consent_email), ('sms', s.consent_sms), ('push', s.consent_push),
                                       ('webhook', s.consent_webhook)) AS g (channel, granted)
            WHERE g.granted IS NOT NULL
            ON CONFLICT (customer_id, channel) DO UPDATE
                SET granted = EXCLUDED.granted, source = EXCLUDED.source, updated_at = now()
                WHERE k.granted IS DISTINCT FROM EXCLUDED.granted
            RETURNING 1
        )
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted), (SELECT count(*) FROM consented)
        FROM upserted
        """

    static let rejectQueries = StagedImport.RejectQueries(table: "import_customers")

    /// Imports `path`. Throws `ImportError` for a file that cannot be used at all (nothing is stored then);
    /// bad rows are counted and listed in the report, and the good rows are stored.
    public func run(path: String, on conn: PostgresConnection) async throws -> ImportReport {
        try StagedImport.checkReadable(path)
        guard let format = options.format ?? ImportFormat(fileName: path) else {
            throw ImportError(
                .unknownFormat,
                """
                The format of \(path) cannot be told from its name; name it .csv, .jsonl or .ndjson, or give \
                --format csv or --format jsonl.
                """)
        }
        let rejectsFile = try StagedImport.openRejectsFile(options.rejectsFile)
        defer { try? rejectsFile?.close() }
        let rules = try await CustomerRules.load(on: conn)
        let options = self.options
        let source = "import:" + URL(fileURLWithPath: path).lastPathComponent
        return try await conn.withTransaction { conn in
            try await conn.query(Self.createStagingSQL)
            var ticker = ProgressTicker(options)
            let read = try await conn.copyFrom(Self.copySQL) { writer in
                try Self.stream(path: path, format: format, rules: rules, ticker: &ticker, into: &writer)
            }
            ticker.applying()
            try await conn.query(Self.analyzeSQL)
            try await conn.query(Self.markRepeatsSQL)
            try await conn.query(Self.indexSQL)
            let counts = try await conn.query(Self.upsertSQL, [source]).single()
            let rejects = try await StagedImport.rejects(
                Self.rejectQueries, limit: options.listedRejects, file: rejectsFile, on: conn)
            return ImportReport(
                kind: .customers, read: read, inserted: try counts.decode(Int.self, at: 0),
                updated: try counts.decode(Int.self, at: 1), rejected: rejects.count, firstRejects: rejects.first)
        }
    }

    /// Reads the file and writes one staging row per record: the customer, or its line and the reason it was
    /// rejected. Runs on the connection's thread, inside the COPY.
    static func stream(
        path: String, format: ImportFormat, rules: CustomerRules, ticker: inout ProgressTicker,
        into writer: inout PostgresCopyWriter
    ) throws {
        func stage(_ line: Int, _ record: () throws(RowRejection) -> CustomerRecord) throws {
            ticker.row()
            do {
                try writer.write(try record().stagingRow(line: line))
            } catch let rejection as RowRejection {
                try writer.write(CustomerRecord.rejectedRow(line: line, reason: rejection.reason))
            }
        }
        switch format {
        case .csv:
            var rows = try CSVRows(path: path)
            let header = try CustomerCSVHeader(rows.header, path: path)
            while let (line, fields) = try rows.next() {
                try stage(line) { () throws(RowRejection) in try header.record(fields, rules: rules) }
            }
        case .jsonl:
            var lines = try JSONLinesReader(path: path)
            while let next = try lines.next() {
                switch next {
                case .text(let line, let data):
                    try stage(line) { () throws(RowRejection) in
                        try CustomerJSON.record(try JSONValue.object(data), rules: rules)
                    }
                case .tooLong(let line):
                    try stage(line) { () throws(RowRejection) in
                        throw RowRejection("is longer than \(JSONLinesReader.maxLineBytes >> 20) MiB")
                    }
                }
            }
        }
    }
}
