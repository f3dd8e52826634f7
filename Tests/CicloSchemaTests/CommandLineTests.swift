import CicloSchema
import CicloTestSupport
import Foundation
import Testing

@Suite("ciclo command line")
struct CommandLineTests {
    func run(_ url: String?, _ arguments: [String] = ["migrate"], env: [String: String] = [:]) throws -> CicloRun {
        let run = try CicloRun(url: url, arguments: arguments, extraEnvironment: env)
        try run.process.run()
        run.process.waitUntilExit()
        return run
    }

    @Test("ciclo version prints its version and libpq's")
    func version() throws {
        let process = Process()
        process.executableURL = MigrationDatabase.cicloExecutable
        process.arguments = ["version"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(output.range(of: #"^ciclo \d+\.\d+\.\d+ \(libpq \d+\.\d+\)\n$"#, options: .regularExpression) != nil)
    }

    @Test("a server that is not there gives one sentence, no password, and exit status 69")
    func unreachable() throws {
        let run = try run("postgresql://ciclo:s3cretpw@127.0.0.1:1/ciclo")
        #expect(run.process.terminationStatus == 69)
        let lines = run.stderr.split(separator: "\n").filter { $0.hasPrefix("ciclo: error:") }
        #expect(lines.count == 1)
        #expect(lines.first?.contains("Could not connect to PostgreSQL") == true)
        #expect(!run.stderr.contains("s3cretpw"))
    }

    @Test("a malformed URL and a bad log level are configuration errors with exit status 78")
    func badConfiguration() throws {
        let badURL = try run("postgresql://[::1")
        #expect(badURL.process.terminationStatus == 78)
        #expect(badURL.stderr.contains("CICLO_DATABASE_URL is not valid"))

        let url = try MigrationDatabase.baseURL()
        let badLevel = try run(url, env: ["CICLO_LOG_LEVEL": "loud"])
        #expect(badLevel.process.terminationStatus == 78)
        #expect(badLevel.stderr.contains("CICLO_LOG_LEVEL is \"loud\""))
    }

    @Test("the URL can come from a file, and both sources at once are refused")
    func urlFromFile() async throws {
        let db = try await MigrationDatabase.create()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("url-\(UUID().uuidString)")
        try Data((db.url + "\n").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let fromFile = try run(nil, env: ["CICLO_DATABASE_URL_FILE": file.path])
        #expect(fromFile.process.terminationStatus == 0, "stderr: \(fromFile.stderr)")
        #expect(fromFile.stdout.contains("migration(s) applied"))
        let both = try run(db.url, env: ["CICLO_DATABASE_URL_FILE": file.path])
        #expect(both.process.terminationStatus == 78)
        await db.drop()
    }
}

@Suite("Migration files")
struct MigrationLoaderTests {
    func scratch(_ files: [String: Data]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, data) in files { try data.write(to: dir.appendingPathComponent(name)) }
        return dir
    }

    @Test("files load in version order, not name order")
    func order() throws {
        let dir = try scratch(["10_b.sql": Data("SELECT 2;".utf8), "9_a.sql": Data("SELECT 1;".utf8)])
        #expect(try MigrationLoader.load(from: dir).map(\.version) == [9, 10])
    }

    @Test("a badly named file, a repeated version and a non-UTF-8 file are each refused by name")
    func badFiles() throws {
        let badName = try scratch(["0001_ok.sql": Data(), "add-index.sql": Data()])
        #expect(throws: MigrationLoader.LoadError.self) { try MigrationLoader.load(from: badName) }
        #expect((try? MigrationLoader.load(from: badName)) == nil)
        do { _ = try MigrationLoader.load(from: badName) } catch { #expect("\(error)".contains("add-index.sql")) }

        let repeated = try scratch(["0001_a.sql": Data(), "001_b.sql": Data()])
        do {
            _ = try MigrationLoader.load(from: repeated)
            Issue.record("a repeated version was accepted")
        } catch { #expect("\(error)".contains("0001_a.sql") && "\(error)".contains("001_b.sql")) }

        let latin1 = try scratch(["0001_a.sql": Data([0x53, 0xe9, 0xff])])
        do {
            _ = try MigrationLoader.load(from: latin1)
            Issue.record("a non-UTF-8 file was accepted")
        } catch { #expect("\(error)".contains("UTF-8")) }

        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("nope-\(UUID().uuidString)")
        do {
            _ = try MigrationLoader.load(from: missing)
            Issue.record("a missing folder was accepted")
        } catch { #expect("\(error)".contains("CICLO_SCHEMA_DIR")) }
    }
}
