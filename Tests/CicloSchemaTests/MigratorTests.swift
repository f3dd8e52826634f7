import CicloSchema
import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite("Migrations")
struct MigratorTests {
    let migrations: [Migration]

    init() throws {
        migrations = try MigrationLoader.load(from: MigrationDatabase.schemaDirectory)
    }

    @Test("a fresh database gets every file, with the file's SHA-256, and a second run applies nothing")
    func applyThenNoOp() async throws {
        let db = try await MigrationDatabase.create()
        let conn = try await db.connect()
        let migrator = Migrator(connection: conn, logger: MigrationDatabase.logger)
        let first = try await migrator.migrate(migrations)
        #expect(first.applied.map(\.version) == migrations.map(\.version))
        #expect(migrations.count >= 4)

        let tables = try await conn.query(
            "SELECT count(*)::int8 FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY($1)",
            [["customers", "events", "campaigns", "send_jobs", "deliveries", "responses", "schema_migrations"]])
        #expect(try tables.scalar(Int.self) == 7)

        let recorded = try await conn.query("SELECT name, checksum FROM schema_migrations ORDER BY version")
        for (row, migration) in zip(recorded, migrations) {
            #expect(try row.decode(String.self, at: 0) == migration.name)
            #expect(try row.decode(String.self, at: 1) == Self.sha256(of: MigrationDatabase.schemaDirectory
                .appendingPathComponent(migration.fileName)))
        }

        let second = try await migrator.migrate(migrations)
        #expect(second.applied.isEmpty)
        #expect(second.alreadyApplied == migrations.count)
        await conn.close()
        await db.drop()
    }

    @Test("two concurrent runs both succeed and apply each file once")
    func concurrentRuns() async throws {
        let db = try await MigrationDatabase.create()
        let migrations = self.migrations
        async let a = Migrator(connection: try await db.connect(), logger: MigrationDatabase.logger).migrate(migrations)
        async let b = Migrator(connection: try await db.connect(), logger: MigrationDatabase.logger).migrate(migrations)
        let (ra, rb) = try await (a, b)
        #expect(ra.applied.count + rb.applied.count == migrations.count)
        #expect(Set(ra.applied.map(\.version)).isDisjoint(with: rb.applied.map(\.version)))
        let conn = try await db.connect()
        #expect(try await conn.query("SELECT count(*)::int8 FROM schema_migrations").scalar(Int.self) == migrations.count)
        await conn.close()
        await db.drop()
    }

    @Test("two concurrent `ciclo migrate` processes both exit 0 and apply each file once")
    func concurrentProcesses() async throws {
        let db = try await MigrationDatabase.create()
        let runs = try [CicloRun(url: db.url), CicloRun(url: db.url)]
        for run in runs { try run.process.run() }
        for run in runs { run.process.waitUntilExit() }
        for run in runs {
            #expect(run.process.terminationStatus == 0, "stderr: \(run.stderr)")
        }
        let appliedLines = runs.flatMap { $0.stdout.split(separator: "\n").filter { $0.hasPrefix("applied ") } }
        #expect(appliedLines.count == migrations.count)
        let conn = try await db.connect()
        #expect(try await conn.query("SELECT count(*)::int8 FROM schema_migrations").scalar(Int.self) == migrations.count)
        await conn.close()
        await db.drop()
    }

    @Test("an applied file that was edited is refused by name, and nothing pending is applied")
    func editedFileRefused() async throws {
        let db = try await MigrationDatabase.create()
        let scratch = try ScratchSchema()
        defer { scratch.remove() }
        let conn = try await db.connect()
        let migrator = Migrator(connection: conn, logger: MigrationDatabase.logger)
        _ = try await migrator.migrate(try MigrationLoader.load(from: scratch.directory))

        let edited = migrations[1]
        try scratch.write(edited.fileName, edited.sql + "\n-- an edit after the fact\n")
        try scratch.write("9000_later.sql", "CREATE TABLE later_table (id int);")
        let error = await #expect(throws: Migrator.Conflict.self) {
            try await migrator.migrate(try MigrationLoader.load(from: scratch.directory))
        }
        #expect(error?.description.contains(edited.fileName) == true)
        #expect(error?.description.contains("edited") == true)
        let later = try await conn.query("SELECT to_regclass('later_table') IS NULL")
        #expect(try later.scalar(Bool.self))
        await conn.close()
        await db.drop()
    }

    @Test("a failing migration is rolled back whole, named in the error, and not recorded")
    func failingMigrationRollsBack() async throws {
        let db = try await MigrationDatabase.create()
        let scratch = try ScratchSchema()
        defer { scratch.remove() }
        try scratch.write("9000_broken.sql", "CREATE TABLE half_applied (id int);\nCREATE TABLEE oops (id int);")
        let conn = try await db.connect()
        let migrator = Migrator(connection: conn, logger: MigrationDatabase.logger)
        let error = await #expect(throws: PostgresError.self) {
            try await migrator.migrate(try MigrationLoader.load(from: scratch.directory))
        }
        #expect(error?.sqlState == "42601")
        #expect(error?.message.contains("9000_broken.sql") == true)
        #expect(try await conn.query("SELECT to_regclass('half_applied') IS NULL").scalar(Bool.self))
        let versions = try await conn.query("SELECT version FROM schema_migrations ORDER BY version").map {
            try $0.decode(Int.self, at: 0)
        }
        #expect(versions == migrations.map(\.version), "the files before the broken one stay applied")
        await conn.close()
        await db.drop()
    }

    @Test("a database with a migration this build lacks, or a file numbered before the latest, is refused")
    func unknownAndOutOfOrder() async throws {
        let db = try await MigrationDatabase.create()
        let scratch = try ScratchSchema()
        defer { scratch.remove() }
        try scratch.write("9000_newer.sql", "SELECT 1;")
        let conn = try await db.connect()
        let migrator = Migrator(connection: conn, logger: MigrationDatabase.logger)
        _ = try await migrator.migrate(try MigrationLoader.load(from: scratch.directory))

        let unknown = await #expect(throws: Migrator.Conflict.self) { try await migrator.migrate(migrations) }
        #expect(unknown?.description.contains("9000") == true)

        try scratch.write("0500_late_branch.sql", "SELECT 1;")
        let early = await #expect(throws: Migrator.Conflict.self) {
            try await migrator.migrate(try MigrationLoader.load(from: scratch.directory))
        }
        #expect(early?.description.contains("0500_late_branch.sql") == true)
        await conn.close()
        await db.drop()
    }

    @Test("a file marked no-transaction can build an index concurrently")
    func noTransactionMigration() async throws {
        let db = try await MigrationDatabase.create()
        let scratch = try ScratchSchema()
        defer { scratch.remove() }
        try scratch.write(
            "9000_concurrent_index.sql",
            "\(Migration.noTransactionMarker)\nCREATE INDEX CONCURRENTLY customers_email ON customers (email);\n")
        let conn = try await db.connect()
        let report = try await Migrator(connection: conn, logger: MigrationDatabase.logger)
            .migrate(try MigrationLoader.load(from: scratch.directory))
        #expect(report.applied.last?.version == 9000)
        #expect(try await conn.query("SELECT to_regclass('customers_email') IS NOT NULL").scalar(Bool.self))
        await conn.close()
        await db.drop()
    }

    static func sha256(of file: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(output.prefix(64))
    }
}

