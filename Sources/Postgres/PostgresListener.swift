import CLibPQ
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#else
    import Darwin
#endif

/// A NOTIFY received on a LISTEN channel.
public struct PostgresNotification: Sendable, Hashable {
    public var channel: String
    public var payload: String
    /// The server process that sent it.
    public var senderPID: Int32
}

/// What a listener reports: a notification, or that it reconnected (and so may have missed notifications sent while
/// it was away: a consumer should look for work it was not told about).
public enum PostgresListenerEvent: Sendable, Hashable {
    case notification(PostgresNotification)
    case reconnected
}

/// LISTEN on a dedicated connection with a thread of its own that sleeps in `poll()` on the socket: no busy loop,
/// and a notification is delivered as soon as it arrives. After a lost connection it reconnects with backoff and
/// LISTENs again.
public final class PostgresListener: Sendable {
    /// The events, as an async sequence. Keeps at most `bufferSize` unread events, dropping the oldest: a
    /// notification is a wake-up, and a slow consumer needs the latest, not every one.
    public let events: AsyncStream<PostgresListenerEvent>

    private let continuation: AsyncStream<PostgresListenerEvent>.Continuation
    private let wakePipe: (read: Int32, write: Int32)
    private let stopped = Atomic<Bool>(false)
    private let finished = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let done = Atomic<Bool>(false)
    private let noticeSink: NoticeSink

    /// Listens on `channels` for the duration of `body`. Returns once the LISTENs are in place, so a NOTIFY sent
    /// after `body` starts is never missed; throws if the first connection fails.
    public static func withListener<T>(
        configuration: PostgresConfiguration, channels: [String], logger: Logger, bufferSize: Int = 1024,
        _ body: (PostgresListener) async throws -> T
    ) async throws -> T {
        let listener = try await PostgresListener.start(configuration, channels, logger, bufferSize)
        do {
            let value = try await body(listener)
            await listener.stop()
            return value
        } catch {
            await listener.stop()
            throw error
        }
    }

    private init(bufferSize: Int, logger: Logger) throws {
        noticeSink = NoticeSink(logger: logger)
        (events, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(bufferSize))
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw PostgresError(code: .misuse, message: "Could not create the listener's wake-up pipe (errno \(errno))")
        }
        wakePipe = (fds[0], fds[1])
    }

    private static func start(
        _ configuration: PostgresConfiguration, _ channels: [String], _ logger: Logger, _ bufferSize: Int
    ) async throws -> PostgresListener {
        let listener = try PostgresListener(bufferSize: bufferSize, logger: logger)
        // The first connection is made on the listener's thread too, and its outcome handed back here.
        let first: UnsafeHandle = try await withCheckedThrowingContinuation { ready in
            let thread = Thread {
                do {
                    let conn = try listener.connectAndListen(configuration, channels)
                    ready.resume(returning: conn)
                } catch {
                    ready.resume(throwing: error)
                    listener.markFinished()
                }
            }
            thread.name = "pg-listen"
            thread.start()
        }
        let thread = Thread { listener.run(first, configuration, channels, logger) }
        thread.name = "pg-listen"
        thread.start()
        return listener
    }

    /// Stops the thread, closes the connection and ends `events`.
    public func stop() async {
        if !stopped.exchange(true, ordering: .acquiringAndReleasing) {
            var byte: UInt8 = 1
            _ = write(wakePipe.write, &byte, 1)
        }
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let resumeNow = finished.withLock { slot -> Bool in
                if done.load(ordering: .acquiring) { return true }
                slot = waiter
                return false
            }
            if resumeNow { waiter.resume() }
        }
    }

    deinit {
        close(wakePipe.read)
        close(wakePipe.write)
    }

    private func markFinished() {
        continuation.finish()
        let waiter = finished.withLock { slot -> CheckedContinuation<Void, Never>? in
            done.store(true, ordering: .releasing)
            defer { slot = nil }
            return slot
        }
        waiter?.resume()
    }

    private func connectAndListen(_ configuration: PostgresConfiguration, _ channels: [String]) throws -> UnsafeHandle {
        let conn = try PostgresConnection.connectHandle(configuration)
        noticeSink.attach(to: conn)
        for channel in channels {
            guard let quoted = PQescapeIdentifier(conn, channel, channel.utf8.count) else {
                PQfinish(conn)
                throw PostgresError(code: .encoding, message: "Channel name \"\(channel)\" could not be quoted")
            }
            let sql = "LISTEN " + String(cString: quoted)
            PQfreemem(quoted)
            let result = PQexec(conn, sql)
            defer { PQclear(result) }
            guard PQresultStatus(result) == PGRES_COMMAND_OK else {
                let message = String(cString: PQerrorMessage(conn)).trimmingNewlines
                PQfinish(conn)
                throw PostgresError(code: .server, message: message, statement: sql)
            }
        }
        return UnsafeHandle(pointer: conn)
    }

    private func run(
        _ first: UnsafeHandle, _ configuration: PostgresConfiguration, _ channels: [String], _ logger: Logger
    ) {
        var conn: OpaquePointer? = first.pointer
        var backoff = 0.05
        while !stopped.load(ordering: .acquiring) {
            guard let live = conn else {
                // Reconnect with capped exponential backoff; the wake pipe interrupts the wait on stop.
                if waitForWake(timeoutMs: Int32(backoff * 1000)) { break }
                do {
                    conn = try connectAndListen(configuration, channels).pointer
                    backoff = 0.05
                    logger.info("listener reconnected", metadata: ["channels": "\(channels)"])
                    continuation.yield(.reconnected)
                } catch {
                    logger.warning("listener reconnect failed", metadata: ["error": "\(error)"])
                    backoff = min(backoff * 2, 5)
                }
                continue
            }
            // Notifications that arrived with an earlier reply (a LISTEN, a reconnect) already sit in libpq's
            // queue and would not wake poll(): hand them over first.
            deliverQueued(live)
            var fds = [
                pollfd(fd: PQsocket(live), events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, 2, -1)
            if ready < 0 && errno == EINTR { continue }
            if fds[1].revents != 0 { break }
            if PQconsumeInput(live) == 0 || PQstatus(live) != CONNECTION_OK {
                logger.warning("listener lost its connection", metadata: [
                    "error": "\(String(cString: PQerrorMessage(live)).trimmingNewlines)"
                ])
                PQfinish(live)
                conn = nil
                continue
            }
            deliverQueued(live)
        }
        if let conn { PQfinish(conn) }
        markFinished()
    }

    private func deliverQueued(_ conn: OpaquePointer) {
        while let notify = PQnotifies(conn) {
            continuation.yield(.notification(PostgresNotification(
                channel: String(cString: notify.pointee.relname),
                payload: String(cString: notify.pointee.extra),
                senderPID: notify.pointee.be_pid)))
            PQfreemem(notify)
        }
    }

    /// Sleeps up to `timeoutMs`, returning true if woken to stop.
    private func waitForWake(timeoutMs: Int32) -> Bool {
        var fd = pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)
        _ = poll(&fd, 1, timeoutMs)
        return stopped.load(ordering: .acquiring)
    }
}
