import CCurl
import Foundation
import Synchronization

/// A few libcurl easy handles, each driven by a thread of its own.
///
/// `curl_easy_perform` blocks for the whole exchange (connect, TLS, every SMTP reply), and blocking Swift's
/// cooperative pool starves every other task in the process. So each handle lives on a dedicated OS thread that takes
/// transfers from a shared queue. A handle keeps its connection open between transfers, which is how the SMTP
/// session and HTTP keep-alive are reused; the pool's size bounds both the threads and the open connections.
final class CurlPool: @unchecked Sendable {
    /// A transfer to run on a pool thread, given that thread's easy handle.
    typealias Job = @Sendable (CurlEasy) -> Void

    // Everything below `condition` is guarded by it; that lock is why this type can be @unchecked Sendable.
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var threads = 0
    private var idle = 0
    private var stopping = false
    private let size: Int

    init(size: Int) {
        _ = CurlEasy.globalInit
        self.size = max(1, size)
    }

    /// Runs `body` on a pool thread and returns its result. Cancelling the calling task sets the transfer's
    /// `TransferControl`, which aborts a transfer in flight (libcurl asks it about once a second) or skips one that
    /// is still queued.
    func perform<T: Sendable>(_ body: @escaping @Sendable (CurlEasy, TransferControl) -> T) async -> T {
        let control = TransferControl()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
                submit { easy in continuation.resume(returning: body(easy, control)) }
            }
        } onCancel: {
            control.cancel()
        }
    }

    /// Lets the threads finish the queued transfers, close their connections and exit.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func submit(_ job: @escaping Job) {
        condition.lock()
        defer { condition.unlock() }
        jobs.append(job)
        // Threads start on demand, so a transport that is never used costs nothing, and only while the queued
        // transfers outnumber the idle threads.
        if jobs.count > idle && threads < size {
            threads += 1
            Thread { [self] in self.runLoop() }.start()
        }
        condition.signal()
    }

    private func runLoop() {
        let easy = CurlEasy()
        defer { easy.close() }
        while true {
            condition.lock()
            idle += 1
            while jobs.isEmpty && !stopping {
                condition.wait()
            }
            idle -= 1
            if jobs.isEmpty {
                threads -= 1
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job(easy)
        }
    }
}

/// Whether the task that asked for a transfer still wants it.
final class TransferControl: Sendable {
    private let cancelled = Atomic<Bool>(false)

    func cancel() { cancelled.store(true, ordering: .relaxed) }
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
}

/// One libcurl easy handle. Used by one pool thread at a time, never shared while a transfer runs.
final class CurlEasy {
    /// libcurl's process-wide set-up, done once before the first handle exists.
    static let globalInit: CURLcode = ccurl_global_init_default()

    let handle: UnsafeMutableRawPointer

    init() {
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        self.handle = handle
    }

    /// Closes the handle and the connections it keeps (libcurl says QUIT to an SMTP server).
    func close() { curl_easy_cleanup(handle) }

    /// Clears every option for the next transfer; the open connections, DNS and TLS session caches stay.
    func reset() { curl_easy_reset(handle) }

    @discardableResult
    func set(_ option: CURLoption, _ value: Int) -> CURLcode { ccurl_setopt_long(handle, option, value) }

    @discardableResult
    func set(_ option: CURLoption, _ value: Bool) -> CURLcode { ccurl_setopt_long(handle, option, value ? 1 : 0) }

    /// Sets a string option; libcurl copies it, so the Swift string need not outlive the call.
    @discardableResult
    func set(_ option: CURLoption, _ value: String) -> CURLcode {
        value.withCString { ccurl_setopt_string(handle, option, $0) }
    }

    @discardableResult
    func set(_ option: CURLoption, duration: Duration) -> CURLcode {
        ccurl_setopt_long(handle, option, duration.milliseconds)
    }

    func perform() -> CURLcode { curl_easy_perform(handle) }

    /// The last status: an HTTP status, or the last SMTP reply code; 0 when the server never answered.
    var responseCode: Int {
        var code = 0
        ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }
}

/// A list of strings for libcurl (recipients, headers), freed with `free()` once the transfer is over.
struct CurlStringList {
    private(set) var pointer: UnsafeMutablePointer<curl_slist>?

    init(_ items: [String]) {
        for item in items {
            pointer = curl_slist_append(pointer, item)
        }
    }

    func free() { curl_slist_free_all(pointer) }
}

extension Duration {
    /// Whole milliseconds, at least 1: libcurl reads 0 as "no timeout".
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}
