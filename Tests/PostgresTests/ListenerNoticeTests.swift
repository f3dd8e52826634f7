import Foundation
import Logging
import Postgres
import Testing

/// Server messages on the listener's connection go to the logger, as they do for `PostgresConnection`, and never
/// to the process's stderr (libpq's default), which belongs to the program using the library.
/// Runs in a child process (an exit test) so that it can point file descriptor 2 at a file of its own.
@Suite("Listener notices", .timeLimit(.minutes(3)))
struct ListenerNoticeTests {
    enum Outcome: Int32 {
        case wroteToStderr = 3, noReconnect = 4, unreadable = 6
    }

    @Test("a terminated listener backend writes nothing to stderr")
    func nothingOnStderr() async {
        await #expect(processExitsWith: .success,
                      "exit 3: something wrote to stderr; exit 4: no reconnect; exit 6: stderr capture unreadable") {
            let path = NSTemporaryDirectory() + "ciclo-listener-stderr-\(getpid())"
            let file = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
            guard file >= 0, dup2(file, 2) >= 0 else { exit(5) }
            defer { unlink(path) }

            let channel = TestDatabase.uniqueName("chan_notice")
            let appName = TestDatabase.uniqueName("listener_notice")
            let admin = try await TestDatabase.connect()
            try await PostgresListener.withListener(
                configuration: try TestDatabase.configuration(appName), channels: [channel],
                logger: Logger(label: "ciclo.tests.silent", factory: { _ in SwiftLogNoOpLogHandler() })
            ) { listener in
                let inbox = EventInbox()
                let pump = inbox.pump(listener.events)
                defer { pump.cancel() }
                let pid = try await admin.query(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'", [appName]
                ).scalar(Int32.self)
                _ = try await admin.query("SELECT pg_terminate_backend($1)", [pid])
                guard await inbox.next(within: .seconds(10), where: { $0 == .reconnected }) != nil else {
                    exit(Outcome.noReconnect.rawValue)
                }
            }
            // Any byte at all, not only libpq's FATAL line: nothing else in this child writes to stderr.
            guard let written = FileManager.default.contents(atPath: path) else { exit(Outcome.unreadable.rawValue) }
            if !written.isEmpty {
                exit(Outcome.wroteToStderr.rawValue)
            }
        }
    }
}
