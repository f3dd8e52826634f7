import CLibPQ
import Foundation
import Synchronization

/// Sends libpq cancel requests for a connection from any thread.
///
/// `PQcancel` is the one libpq call made to be used from another thread than the connection's own. It opens a new
/// connection to the server, so it runs on a thread of its own rather than on the cancelling task's thread.
final class Canceller: Sendable {
    private struct State {
        var handle: UnsafeHandle?
        var inFlight = false
    }
    // The PGcancel pointer lives only inside this lock; freeing it takes the same lock, so a cancel in progress
    // never reads a freed pointer.
    private let state = Mutex(State())

    /// Replaces the cancel handle (after a reconnect) and frees the old one.
    func setHandle(_ handle: OpaquePointer?) {
        state.withLock { state in
            if let old = state.handle { PQfreeCancel(old.pointer) }
            state.handle = handle.map(UnsafeHandle.init)
        }
    }

    func begin() { state.withLock { $0.inFlight = true } }
    func end() { state.withLock { $0.inFlight = false } }

    /// Asks the server to cancel the statement running now, if there is one.
    func cancel() {
        Thread.detachNewThread { [self] in
            state.withLock { state in
                guard state.inFlight, let handle = state.handle else { return }
                var buffer = [CChar](repeating: 0, count: 256)
                _ = PQcancel(handle.pointer, &buffer, Int32(buffer.count))
            }
        }
    }

    deinit { setHandle(nil) }
}

/// A libpq pointer (PGconn, PGcancel) that may cross threads. libpq objects are not thread-safe, so whoever holds
/// one must guarantee single use: the connection actor (one thread) or the Canceller's lock.
struct UnsafeHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}
