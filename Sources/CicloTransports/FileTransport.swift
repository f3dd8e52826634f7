import CicloChannels
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An outbox on disk, for demos and for inspecting what would be sent.
///
/// Each message becomes one file under `<directory>/<channel>/`: `<name>.eml` holds an email's raw message,
/// `<name>.json` an HTTP request (method, URL, headers, body). The name is the message's idempotency key made safe
/// for a file name, so sending the same message twice overwrites one file. Files are written under a temporary name
/// and renamed into place: a reader never sees half a message.
public struct FileTransport: EmailTransport, HTTPTransport {
    /// The outbox's root; created, with the channel's subdirectory, on the first send.
    public let directory: URL
    /// The subdirectory this instance writes to: one instance per channel.
    public let channel: Channel
    private let logger: Logger

    /// An outbox writing `channel`'s messages under `directory`.
    public init(directory: URL, channel: Channel, logger: Logger = Logger(label: "ciclo.transports.file")) {
        self.directory = directory
        self.channel = channel
        self.logger = logger
    }

    /// Writes `<directory>/<channel>/<Message-ID>.eml`; the provider id is that path, relative to `directory`.
    public func send(_ email: EmailEnvelope) async -> TransportResult {
        store(email.message, key: email.messageID, suffix: "eml")
    }

    /// Writes `<directory>/<channel>/<idempotency key>.json`; the provider id is that path, relative to `directory`.
    public func send(_ request: HTTPMessage) async -> TransportResult {
        store(Self.document(request), key: request.idempotencyKey, suffix: "json")
    }

    private func store(_ data: Data, key: String, suffix: String) -> TransportResult {
        guard !key.isEmpty else {
            return .failed(
                message: "The message has no idempotency key to name its file.", permanent: true, retryAfter: nil)
        }
        let relative = "\(channel.rawValue)/\(Self.fileName(for: key)).\(suffix)"
        do throws(POSIXFailure) {
            try Self.makeDirectory(directory.appendingPathComponent(channel.rawValue).path)
            try Self.writeAtomically(data, to: directory.appendingPathComponent(relative).path)
        } catch {
            // A full or failing disk can recover; a path that is not a writable directory needs an operator.
            let permanent = ![ENOSPC, EIO, EAGAIN, EDQUOT, EMFILE, ENFILE].contains(error.code)
            logger.info("message not written", metadata: ["file": "\(relative)", "permanent": "\(permanent)"])
            return .failed(
                message:
                    "Could not write \(relative) under \(directory.path): \(String(cString: strerror(error.code))).",
                permanent: permanent, retryAfter: nil)
        }
        logger.debug("message written", metadata: ["file": "\(relative)"])
        return .delivered(providerMessageID: relative)
    }

    struct POSIXFailure: Error { var code: Int32 }

    /// `mkdir -p`, reporting errno: a path under a regular file is ENOTDIR, an unwritable parent EACCES.
    static func makeDirectory(_ path: String) throws(POSIXFailure) {
        if mkdir(path, 0o755) == 0 { return }
        let failure = errno
        if failure == ENOENT, path != "/", !path.isEmpty {
            try makeDirectory((path as NSString).deletingLastPathComponent)
            if mkdir(path, 0o755) == 0 || errno == EEXIST { return }
            throw POSIXFailure(code: errno)
        }
        guard failure == EEXIST else { throw POSIXFailure(code: failure) }
        var info = stat()
        guard stat(path, &info) == 0 else { throw POSIXFailure(code: errno) }
        if info.st_mode & S_IFMT != S_IFDIR { throw POSIXFailure(code: ENOTDIR) }
    }

    /// Writes a temporary file beside the target, flushes it to disk, then renames it over the target.
    static func writeAtomically(_ data: Data, to path: String) throws(POSIXFailure) {
        let temporary = (path as NSString).deletingLastPathComponent + "/.tmp-\(UUID().uuidString)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXFailure(code: errno) }
        var failure: Int32?
        data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += written
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == nil && rename(temporary, path) != 0 { failure = errno }
        if let failure {
            unlink(temporary)
            throw POSIXFailure(code: failure)
        }
    }

    /// The key as a file name: letters, digits and `-_.@+=` stay, every other byte becomes `%XX` (so two keys never
    /// share a file), a leading dot is escaped (no hidden files, no `..`), and a name too long for the file system
    /// keeps its start and gets a hash of the whole key.
    static func fileName(for key: String) -> String {
        var name = ""
        let kept = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.@+=".utf8)
        for byte in key.utf8 {
            if kept.contains(byte) && !(name.isEmpty && byte == UInt8(ascii: ".")) {
                name.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                name += String(format: "%%%02X", byte)
            }
        }
        guard name.utf8.count > 200 else { return name }
        // FNV-1a: stable across runs and platforms, unlike Hasher.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(name.prefix(180)) + "-" + String(hash, radix: 16)
    }

    /// The JSON document for an HTTP request. A JSON body is embedded as it is, byte for byte; any other body is
    /// kept as text, or as base64 when it is not UTF-8. Credentials in headers and the URL are masked: the outbox
    /// is for reading, and a file is easy to share.
    static func document(_ request: HTTPMessage) -> Data {
        func quoted(_ text: String) -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            return String(decoding: (try? encoder.encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
        }
        let secret: Set<String> = ["authorization", "proxy-authorization", "cookie", "x-api-key", "api-key"]
        let headers = request.headers.map { header in
            let value = secret.contains(header.name.lowercased()) ? "***" : header.value
            return "    [\(quoted(header.name)), \(quoted(value))]"
        }
        var url = URLComponents(string: request.url)
        if url?.password != nil { url?.password = "***" }
        var text = "{\n  \"method\": \(quoted(request.method)),\n  \"url\": \(quoted(url?.string ?? request.url)),\n"
        text += "  \"idempotencyKey\": \(quoted(request.idempotencyKey)),\n"
        text += "  \"headers\": [\n\(headers.joined(separator: ",\n"))\n  ],\n"
        if (try? JSONSerialization.jsonObject(with: request.body, options: [.fragmentsAllowed])) != nil {
            return Data(text.utf8) + Data("  \"body\": ".utf8) + request.body + Data("\n}\n".utf8)
        }
        if let body = String(data: request.body, encoding: .utf8) {
            text += "  \"bodyText\": \(quoted(body))\n}\n"
        } else {
            text += "  \"bodyBase64\": \(quoted(request.body.base64EncodedString()))\n}\n"
        }
        return Data(text.utf8)
    }
}
