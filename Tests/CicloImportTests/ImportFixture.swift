import CicloImport
import CicloTestSupport
import Foundation
import Postgres
import Testing

/// A fresh migrated database and a scratch folder for the files a test imports.
struct ImportFixture {
    let db: MigrationDatabase
    let conn: PostgresConnection
    let folder: URL

    static func make() async throws -> ImportFixture {
        let db = try await MigrationDatabase.migrated()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ciclo-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return ImportFixture(db: db, conn: try await db.connect(), folder: folder)
    }

    /// Runs `body` with a fresh fixture and drops it afterwards, whether the body passed or threw.
    static func with(_ body: (ImportFixture) async throws -> Void) async throws {
        let fixture = try await make()
        do {
            try await body(fixture)
        } catch {
            await fixture.finish()
            throw error
        }
        await fixture.finish()
    }

    func finish() async {
        await conn.close()
        await db.drop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// Writes `text` to a file named `name` in the scratch folder and returns its path.
    @discardableResult
    func file(_ name: String, _ text: String) throws -> String {
        try bytes(name, Data(text.utf8))
    }

    @discardableResult
    func bytes(_ name: String, _ data: Data) throws -> String {
        let url = folder.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    func customers(_ path: String, _ options: ImportOptions = .init()) async throws -> ImportReport {
        try await CustomerImporter(options: options).run(path: path, on: conn)
    }

    func events(_ path: String, _ options: ImportOptions = .init()) async throws -> ImportReport {
        try await EventImporter(options: options).run(path: path, on: conn)
    }

    /// One customer's stored fields, as text, by column name.
    func customer(_ externalID: String) async throws -> [String: String] {
        let row = try await conn.query(
            """
            SELECT email, phone, push_token, locale, timezone, stage, persona, array_to_string(product_preferences, ';'),
                   attributes::text, to_char(last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
            FROM customers WHERE external_id = $1
            """, [externalID]
        ).single()
        let names = [
            "email", "phone", "push_token", "locale", "timezone", "stage", "persona", "product_preferences",
            "attributes", "last_seen_at",
        ]
        var fields: [String: String] = [:]
        for (i, name) in names.enumerated() { fields[name] = try row.decode(String?.self, at: i) }
        return fields
    }

    /// A customer's consents as `channel=true|false`, sorted.
    func consents(_ externalID: String) async throws -> [String] {
        try await conn.query(
            """
            SELECT k.channel || '=' || k.granted FROM consents k JOIN customers c ON c.id = k.customer_id
            WHERE c.external_id = $1 ORDER BY k.channel
            """, [externalID]
        ).map { try $0.decode(String.self, at: 0) }
    }

    func count(_ table: String) async throws -> Int {
        try await conn.query("SELECT count(*) FROM \(table)").scalar(Int.self)
    }

    /// The rejected rows of a report by line, for compact expectations.
    static func rejects(_ report: ImportReport) -> [Int: String] {
        Dictionary(uniqueKeysWithValues: report.firstRejects.map { ($0.line, $0.reason) })
    }
}
