import Foundation
import Postgres
import Testing

@Suite("LISTEN and NOTIFY", .timeLimit(.minutes(3)))
struct ListenerTests {
    static func notify(_ conn: PostgresConnection, _ channel: String, _ payload: String) async throws {
        try await conn.query("SELECT pg_notify($1, $2)", [channel, payload])
    }

    /// Latency is timed only on samples where a plain round trip just before and just after was fast, so that a
    /// machine busy with the other tests cannot fail it, while a listener that polls or batches still does: the
    /// median timed sample must be under 100 ms (one sample slowed by the suite's load was seen at more).
    @Test("a NOTIFY arrives within 100 ms (median) with its channel and Unicode payload intact", .timeLimit(.minutes(3)))
    func latency() async throws {
        let channel = TestDatabase.uniqueName("chan")
        let notifier = try await TestDatabase.connect()
        let notifierPID = try await notifier.backendPID()
        let payloads = ["Olá, ação! ciao, città 🎉 中文 e\u{301}", "", "plain", "quotes ' \" \\ {,}"]
        try await PostgresListener.withListener(
            configuration: try TestDatabase.configuration(), channels: [channel], logger: TestDatabase.logger
        ) { listener in
            let inbox = EventInbox()
            let pump = inbox.pump(listener.events)
            defer { pump.cancel() }
            var timed: [Duration] = []
            var skipped = 0
            // Samples taken while the machine is busy are skipped, not failed: under the whole suite's load a quiet
            // moment can take more than a minute to come.
            let deadline = ContinuousClock.now + .seconds(120)
            var sent = 0
            while timed.count < 5 && ContinuousClock.now < deadline {
                let payload = payloads[sent % payloads.count]
                sent += 1
                let before = try await roundTrip(notifier)
                let start = ContinuousClock.now
                try await Self.notify(notifier, channel, payload)
                let received = try #require(await inbox.next(within: .seconds(5)), "no notification for \(payload)")
                let after = try await roundTrip(notifier)
                let note = try #require(received.event.notification)
                #expect(note.channel == channel)
                #expect(Array(note.payload.utf8) == Array(payload.utf8))
                #expect(note.senderPID == notifierPID)
                if before < .milliseconds(20) && after < .milliseconds(20) {
                    timed.append(start.duration(to: received.at))
                } else {
                    skipped += 1
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(timed.count == 5, "the machine was never quiet enough to time a notification (\(skipped) skipped)")
            if !timed.isEmpty {
                #expect(timed.sorted()[timed.count / 2] < .milliseconds(100), "latencies: \(timed)")
            }
        }
    }

    @Test("a channel name that needs quoting works", arguments: ["Mixed Case \(UUID().uuidString.prefix(8))",
                                                                 "with \"quote\" and ção \(UUID().uuidString.prefix(8))"])
    func quotedChannel(_ channel: String) async throws {
        let notifier = try await TestDatabase.connect()
        try await PostgresListener.withListener(
            configuration: try TestDatabase.configuration(), channels: [channel, channel.lowercased()],
            logger: TestDatabase.logger
        ) { listener in
            let inbox = EventInbox()
            let pump = inbox.pump(listener.events)
            defer { pump.cancel() }
            try await Self.notify(notifier, channel, "exact")
            let received = try #require(await inbox.next(within: .seconds(5)))
            #expect(received.event.notification?.channel == channel)
            #expect(received.event.notification?.payload == "exact")
            // Channel names are case-sensitive once quoted: the lower-case one is a different channel.
            try await Self.notify(notifier, channel.lowercased(), "lower")
            let lower = try #require(await inbox.next(within: .seconds(5)))
            #expect(lower.event.notification?.channel == channel.lowercased())
            #expect(lower.event.notification?.payload == "lower")
        }
    }

    @Test("after its backend is terminated the listener reports .reconnected and keeps receiving")
    func reconnects() async throws {
        let channel = TestDatabase.uniqueName("chan_reconnect")
        let appName = TestDatabase.uniqueName("listener")
        let admin = try await TestDatabase.connect()
        try await PostgresListener.withListener(
            configuration: try TestDatabase.configuration(appName), channels: [channel], logger: TestDatabase.logger
        ) { listener in
            let inbox = EventInbox()
            let pump = inbox.pump(listener.events)
            defer { pump.cancel() }
            try await Self.notify(admin, channel, "before")
            #expect(try #require(await inbox.next()).event.notification?.payload == "before")

            let pid = try await admin.query(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'", [appName]
            ).scalar(Int32.self)
            #expect(try await admin.query("SELECT pg_terminate_backend($1)", [pid]).scalar(Bool.self))

            let reconnected = await inbox.next(within: .seconds(10)) { $0 == .reconnected }
            #expect(reconnected != nil, "no .reconnected within 10 s")
            let newPID = try await admin.query(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'", [appName]
            ).scalar(Int32.self)
            #expect(newPID != pid)

            try await Self.notify(admin, channel, "after ✓")
            let after = await inbox.next(within: .seconds(5)) { $0.notification != nil }
            #expect(after?.event.notification?.payload == "after ✓")
            #expect(after?.event.notification?.channel == channel)
        }
    }

    @Test("leaving withListener finishes the event sequence and closes the session")
    func exitFinishes() async throws {
        let channel = TestDatabase.uniqueName("chan_exit")
        let appName = TestDatabase.uniqueName("listener_exit")
        let inbox = EventInbox()
        let pump = try await PostgresListener.withListener(
            configuration: try TestDatabase.configuration(appName), channels: [channel], logger: TestDatabase.logger
        ) { listener in
            inbox.pump(listener.events)
        }
        let finished = await TestDatabase.waitUntil(.seconds(5)) { inbox.isFinished }
        #expect(finished, "the sequence did not finish after withListener returned")
        await pump.value
        let admin = try await TestDatabase.connect()
        let gone = try await TestDatabase.waitUntil {
            try await admin.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", [appName])
                .scalar(Int.self) == 0
        }
        #expect(gone, "the listener's session is still open")
    }

    @Test("stop() inside the body finishes the sequence, and a throwing body still stops the listener")
    func stopAndThrow() async throws {
        let channel = TestDatabase.uniqueName("chan_stop")
        let inbox = EventInbox()
        try await PostgresListener.withListener(
            configuration: try TestDatabase.configuration(), channels: [channel], logger: TestDatabase.logger
        ) { listener in
            let pump = inbox.pump(listener.events)
            await listener.stop()
            await pump.value
            #expect(inbox.isFinished)
            await listener.stop()  // a second stop is harmless
        }

        let thrown = EventInbox()
        await #expect(throws: ExpectedFailure()) {
            try await PostgresListener.withListener(
                configuration: try TestDatabase.configuration(), channels: [channel], logger: TestDatabase.logger
            ) { listener in
                _ = thrown.pump(listener.events)
                throw ExpectedFailure()
            }
        }
        #expect(await TestDatabase.waitUntil(.seconds(5)) { thrown.isFinished })
    }

    @Test("a listener that cannot connect throws .connectionFailed")
    func cannotConnect() async throws {
        let configuration = PostgresConfiguration(connectionString: "postgresql://u:secretpw@127.0.0.1:1/x")
        let error = await #expect(throws: PostgresError.self) {
            try await PostgresListener.withListener(
                configuration: configuration, channels: ["x"], logger: TestDatabase.logger
            ) { _ in }
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.description.contains("secretpw") == false)
    }
}
