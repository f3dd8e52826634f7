import CCurl
import CicloChannels
import Foundation

/// What libcurl's callbacks read and write during one transfer.
///
/// The callbacks are C function pointers and cannot capture anything, so each gets this object as a raw pointer;
/// `run` keeps it alive until `curl_easy_perform` returns. It is used on one pool thread only.
final class CurlTransfer {
    let control: TransferControl
    private let upload: Data
    private var uploadOffset = 0
    /// The response body, at most `bodyLimit` bytes: enough for a message id or an error excerpt.
    private(set) var body = Data()
    private let bodyLimit: Int
    /// Headers of the final response; those of a `100 Continue` before it are dropped.
    private(set) var headers: [HTTPHeader] = []
    /// The last SMTP reply that reported a failure (4xx or 5xx): its code and its final line.
    private(set) var failureReply: (code: Int, line: String)?
    /// The last line of the last SMTP reply: after a delivery, the relay's answer to the message.
    private(set) var lastReply: String?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))

    init(control: TransferControl, upload: Data = Data(), bodyLimit: Int = 64 * 1024) {
        self.control = control
        self.upload = upload
        self.bodyLimit = bodyLimit
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit { errorBuffer.deallocate() }

    private var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    private static func from(_ pointer: UnsafeMutableRawPointer?) -> CurlTransfer {
        Unmanaged<CurlTransfer>.fromOpaque(pointer!).takeUnretainedValue()
    }

    /// Installs the callbacks every transfer needs: cancellation and libcurl's own error text.
    func installCommon(on easy: CurlEasy) {
        ccurl_setopt_pointer(easy.handle, CURLOPT_ERRORBUFFER, errorBuffer)
        // Several threads use libcurl at once: timeouts must not rely on signals.
        easy.set(CURLOPT_NOSIGNAL, true)
        easy.set(CURLOPT_NOPROGRESS, false)
        ccurl_setopt_pointer(easy.handle, CURLOPT_XFERINFODATA, opaque)
        ccurl_setopt_xferinfo_callback(easy.handle) { pointer, _, _, _, _ in
            // Called about once a second even when nothing moves, so a cancelled task stops its transfer promptly.
            CurlTransfer.from(pointer).control.isCancelled ? 1 : 0
        }
    }

    /// Feeds `upload` to libcurl (the SMTP DATA).
    func installUpload(on easy: CurlEasy) {
        easy.set(CURLOPT_UPLOAD, true)
        ccurl_setopt_off_t(easy.handle, CURLOPT_INFILESIZE_LARGE, upload.count)
        ccurl_setopt_pointer(easy.handle, CURLOPT_READDATA, opaque)
        ccurl_setopt_read_callback(easy.handle) { buffer, size, count, pointer in
            let transfer = CurlTransfer.from(pointer)
            let length = min(size * count, transfer.upload.count - transfer.uploadOffset)
            guard length > 0, let buffer else { return 0 }
            let start = transfer.upload.startIndex + transfer.uploadOffset
            transfer.upload.copyBytes(
                to: UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: UInt8.self),
                from: start..<start + length)
            transfer.uploadOffset += length
            return length
        }
    }

    /// Collects the response's headers and the beginning of its body.
    func installResponse(on easy: CurlEasy) {
        ccurl_setopt_pointer(easy.handle, CURLOPT_WRITEDATA, opaque)
        ccurl_setopt_write_callback(easy.handle) { data, size, count, pointer in
            let transfer = CurlTransfer.from(pointer)
            let length = size * count
            let room = transfer.bodyLimit - transfer.body.count
            if let data, room > 0 {
                transfer.body.append(
                    UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: min(room, length))
            }
            // Claim everything: a short count would abort the transfer, and the rest of a long body is not needed.
            return length
        }
        ccurl_setopt_pointer(easy.handle, CURLOPT_HEADERDATA, opaque)
        ccurl_setopt_header_callback(easy.handle) { data, size, count, pointer in
            let transfer = CurlTransfer.from(pointer)
            let length = size * count
            guard let data else { return length }
            let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
            if line.hasPrefix("HTTP/") {
                transfer.headers.removeAll()
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].trimmingCharacters(in: .whitespaces)
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                transfer.headers.append(HTTPHeader(name, value))
            }
            return length
        }
    }

    /// Watches the server's SMTP replies, so a failure can name the reply that caused it.
    ///
    /// Only incoming protocol lines are looked at (CURLINFO_HEADER_IN): outgoing lines carry AUTH credentials.
    func installReplyTrace(on easy: CurlEasy) {
        easy.set(CURLOPT_VERBOSE, true)
        ccurl_setopt_pointer(easy.handle, CURLOPT_DEBUGDATA, opaque)
        ccurl_setopt_debug_callback(easy.handle) { _, kind, data, length, pointer in
            guard kind == CURLINFO_HEADER_IN, let data else { return 0 }
            let text = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
            let transfer = CurlTransfer.from(pointer)
            for line in text.split(whereSeparator: \.isNewline) {
                // "250-..." continues a reply, "250 ..." ends it.
                guard let code = Int(line.prefix(3)), line.dropFirst(3).first != "-" else { continue }
                transfer.lastReply = String(line.prefix(200))
                if code >= 400 { transfer.failureReply = (code, String(line.prefix(200))) }
            }
            return 0
        }
    }

    /// Runs the transfer, unless the task that wanted it was cancelled while it waited for a handle.
    func run(on easy: CurlEasy) -> CURLcode {
        if control.isCancelled { return CURLE_ABORTED_BY_CALLBACK }
        return withExtendedLifetime(self) { easy.perform() }
    }

    /// libcurl's own description of a failure: the detailed error buffer when it has one.
    func errorText(_ code: CURLcode) -> String {
        if code == CURLE_ABORTED_BY_CALLBACK && control.isCancelled { return "the send was cancelled" }
        let detail = String(cString: errorBuffer)
        return detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
    }
}

/// Failures of libcurl itself, before or instead of a server's answer.
enum CurlFailure {
    /// Whether a libcurl error will recur on every retry: only a transport that is configured wrong.
    ///
    /// Everything else (refused or reset connections, timeouts, DNS, TLS handshakes and certificates, a STARTTLS the
    /// server did not offer) may be a passing outage or be fixed on the server's side, so it is retried.
    static func isPermanent(_ code: CURLcode) -> Bool {
        switch code {
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_NOT_BUILT_IN, CURLE_BAD_FUNCTION_ARGUMENT:
            true
        default:
            false
        }
    }
}

/// Text from outside (a server's reply, a response body) shortened to one line for an error message.
func excerpt(_ text: String, limit: Int = 200) -> String {
    let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
    return flat.count > limit ? String(flat.prefix(limit)) + "…" : flat
}

/// The scheme, host and port of a URL, for logs and messages: never its user, password, path or query.
func redactedOrigin(_ url: String) -> String {
    guard let components = URLComponents(string: url), let host = components.host else { return "(invalid URL)" }
    let port = components.port.map { ":\($0)" } ?? ""
    return "\(components.scheme ?? "")://\(host)\(port)"
}
