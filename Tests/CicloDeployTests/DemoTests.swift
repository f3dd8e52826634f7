import CicloTestSupport
import Foundation
import Testing

/// `make demo` is the project's front door: scripts/demo.sh run whole, as a script runs it (no terminal), on a small
/// population, with the debug `ciclo`, its own PostgreSQL cluster and its own ports. It must end by itself with
/// status 0, having delivered through the sink, folded the responses and verified the report, and leave nothing
/// running.
@Suite("make demo")
struct DemoTests {
    static var repository: URL { MigrationDatabase.schemaDirectory.deletingLastPathComponent() }

    /// Runs a line of Python; returns its exit status and what it printed.
    static func python(_ code: String) throws -> (status: Int32, output: String) {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", code]
        let pipe = Pipe()
        probe.standardOutput = pipe
        try probe.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        probe.waitUntilExit()
        return (probe.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func freePort() throws -> Int {
        let out = try python("import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
        return Int(out.output.trimmingCharacters(in: .whitespacesAndNewlines))!
    }

    static func listening(_ port: Int) throws -> Bool {
        try python("import socket, sys; sys.exit(socket.socket().connect_ex(('127.0.0.1', \(port))))").status == 0
    }

    @Test("the demo runs end to end without a terminal, reports, verifies and stops everything it started")
    func demoRunsWhole() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("ciclo-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        // The server runs as the postgres user, who must reach its data folder inside this one.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: state.path)
        defer { try? FileManager.default.removeItem(at: state) }
        let output = state.appendingPathComponent("demo.out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)

        let demo = Process()
        demo.executableURL = Self.repository.appendingPathComponent("scripts/demo.sh")
        var environment = ProcessInfo.processInfo.environment
        environment["CICLO_DATABASE_URL"] = nil
        let ports = (database: try Self.freePort(), reporter: try Self.freePort(), smtp: try Self.freePort(),
                     http: try Self.freePort())
        environment.merge([
            "CICLO_BIN": MigrationDatabase.cicloExecutable.path, "CICLO_DEMO_STATE": state.path,
            "CICLO_DEMO_CUSTOMERS": "3000", "DB_PORT": "\(ports.database)", "CICLO_DEMO_PORT": "\(ports.reporter)",
            "CICLO_DEMO_SMTP_PORT": "\(ports.smtp)", "CICLO_DEMO_HTTP_PORT": "\(ports.http)",
            "CICLO_SCHEMA_DIR": MigrationDatabase.schemaDirectory.path,
        ]) { $1 }
        demo.environment = environment
        demo.standardInput = FileHandle.nullDevice
        demo.standardOutput = try FileHandle(forWritingTo: output)
        demo.standardError = demo.standardOutput
        try demo.run()
        let deadline = ContinuousClock.now + .seconds(600)
        while demo.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
        // Too slow: SIGTERM makes the demo stop what it started, as Ctrl-C does.
        if demo.isRunning { demo.terminate() }
        demo.waitUntilExit()
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        #expect(demo.terminationStatus == 0, "\(text.suffix(4000))")

        // Every step ran and said so; the report and its recount agree.
        #expect(text.contains("customers: 3000 read"), "\(text.prefix(3000))")
        #expect(text.contains("campaign winback-cycle runs a cycle on the scheduler's next tick"))
        #expect(text.contains("campaign flash-sale launched"))
        #expect(
            text.contains("campaign deposit-thanks, customer ") && text.contains("\nSMS: 1 segment"), "ciclo preview")
        #expect(text.contains("simulated, on "))
        #expect(text.contains("winback-cycle") && text.contains("flash-sale"))
        #expect(text.contains("match"), "ciclo report --verify: \(text.suffix(3000))")
        #expect(text.contains("demo finished"))

        // Email went through SMTP into the sink's outbox as real messages, each with its unsubscribe link.
        let emails = try FileManager.default.contentsOfDirectory(atPath: state.appendingPathComponent("outbox/email").path)
            .filter { $0.hasSuffix(".eml") }
        #expect(emails.count > 50, "\(emails.count) emails")
        if let first = emails.first {
            let message = try String(contentsOf: state.appendingPathComponent("outbox/email/\(first)"), encoding: .utf8)
            // The demo's reporter is plain http on loopback, so the one-click header (RFC 8058 wants https) is left out
            // and the link alone is offered.
            #expect(message.contains("List-Unsubscribe: <http://127.0.0.1:\(ports.reporter)/u/"), "\(message.prefix(1500))")
            #expect(message.contains("multipart/alternative"))
        }
        // Nothing the demo started is left: no server answers on its ports, and PostgreSQL has stopped.
        for (name, port) in [("PostgreSQL", ports.database), ("the reporter", ports.reporter),
                             ("the SMTP sink", ports.smtp), ("the HTTP sink", ports.http)] {
            #expect(try !Self.listening(port), "\(name) still listens on \(port)")
        }
        #expect(!FileManager.default.fileExists(atPath: state.appendingPathComponent("pg/data/postmaster.pid").path))
    }
}
