import CCurl
import CicloChannels
import Foundation
import Logging

/// Sends HTTP requests to provider APIs and webhooks through libcurl.
///
/// Pooled handles keep their connections alive between requests. Every request carries `Idempotency-Key`, so a retry
/// after a lost response is recognised by the provider. The response is classified by `HTTPResponseClassifier`.
/// Make one per provider (or one for all webhooks) and share it: its handles, threads and connections live as long
/// as it does.
public final class CurlHTTPTransport: HTTPTransport {
    /// Timeouts, pool size and where the provider's message id is found.
    public struct Configuration: Sendable {
        /// The bound on opening a connection, TLS handshake included.
        public var connectTimeout: Duration
        /// The bound on one whole request, from connecting to the last byte of the response.
        public var timeout: Duration
        /// Easy handles in the pool: concurrent requests and kept-alive connections.
        public var maximumConnections: Int
        /// A kept-alive connection idle for longer is closed rather than reused.
        public var maximumIdleTime: Duration
        /// A field of a 2xx JSON response holding the provider's message id; dots descend into nested objects
        /// (`"data.id"`).
        public var messageIDJSONField: String?
        /// A response header holding the provider's message id, used when the JSON field is absent.
        public var messageIDHeader: String?
        /// The `User-Agent` header, unless the message sets one.
        public var userAgent: String
        /// Whether the server's certificate and host name are checked; turn off only for a test server.
        public var verifyPeer: Bool
        /// A PEM bundle of CA certificates to trust instead of the system's.
        public var caCertificateFile: String?

        /// Settings whose defaults suit a provider API on the Internet.
        public init(
            connectTimeout: Duration = .seconds(5), timeout: Duration = .seconds(30), maximumConnections: Int = 4,
            maximumIdleTime: Duration = .seconds(60), messageIDJSONField: String? = "id",
            messageIDHeader: String? = "X-Message-Id", userAgent: String = "ciclo", verifyPeer: Bool = true,
            caCertificateFile: String? = nil
        ) {
            self.connectTimeout = connectTimeout
            self.timeout = timeout
            self.maximumConnections = maximumConnections
            self.maximumIdleTime = maximumIdleTime
            self.messageIDJSONField = messageIDJSONField
            self.messageIDHeader = messageIDHeader
            self.userAgent = userAgent
            self.verifyPeer = verifyPeer
            self.caCertificateFile = caCertificateFile
        }
    }

    /// The settings this transport was made with.
    public let configuration: Configuration
    private let logger: Logger
    private let pool: CurlPool

    /// A transport with no open connection yet: the first request connects.
    public init(configuration: Configuration = Configuration(), logger: Logger = Logger(label: "ciclo.transports.http"))
    {
        self.configuration = configuration
        self.logger = logger
        self.pool = CurlPool(size: configuration.maximumConnections)
    }

    deinit { pool.shutdown() }

    /// Sends one request; never throws: every outcome is a `TransportResult`.
    public func send(_ request: HTTPMessage) async -> TransportResult {
        let headers: [String]
        switch Self.headerLines(request) {
        case .success(let lines): headers = lines
        case .failure(let problem): return .failed(message: problem.message, permanent: true, retryAfter: nil)
        }
        let configuration = configuration
        let result = await pool.perform { easy, control in
            Self.exchange(request, headers, configuration, easy, control)
        }
        let origin = redactedOrigin(request.url)
        switch result {
        case .delivered(let id):
            logger.debug("request delivered", metadata: ["origin": "\(origin)", "provider-id": "\(id ?? "-")"])
        case .failed(let message, let permanent, _):
            logger.info(
                "request not delivered",
                metadata: [
                    "origin": "\(origin)", "idempotency-key": "\(request.idempotencyKey)", "permanent": "\(permanent)",
                    "reason": "\(message)",
                ])
        case .throttled(let message, _):
            logger.info("request throttled by the provider", metadata: [
                "origin": "\(origin)", "idempotency-key": "\(request.idempotencyKey)", "reason": "\(message)",
            ])
        }
        return result
    }

    struct InvalidRequest: Error { var message: String }

    /// The header lines for libcurl: the message's own, `Idempotency-Key` unless it has one, and "Name:" lines that
    /// stop libcurl adding headers of its own (a form Content-Type on a POST; `Expect: 100-continue` on larger
    /// bodies, which costs a round trip, or a second's wait on servers that ignore it).
    static func headerLines(_ request: HTTPMessage) -> Result<[String], InvalidRequest> {
        let method = request.method.uppercased()
        guard !method.isEmpty, method.allSatisfy({ $0.isLetter && $0.isASCII }) else {
            return .failure(InvalidRequest(message: "The HTTP method \(request.method.debugDescription) is not valid."))
        }
        for header in request.headers {
            let name = header.name
            // A line break in a header would let a value inject headers or a second request.
            if name.isEmpty || name.contains(where: { $0 == ":" || $0.isWhitespace })
                || header.value.contains(where: { "\r\n\0".contains($0) })
            {
                return .failure(InvalidRequest(message: "The HTTP header \(name.debugDescription) is not valid."))
            }
        }
        if request.idempotencyKey.contains(where: { "\r\n\0".contains($0) }) {
            return .failure(InvalidRequest(message: "The idempotency key contains a line break."))
        }
        func has(_ name: String) -> Bool { request.headers.contains { $0.name.lowercased() == name.lowercased() } }
        // libcurl reads "Name;" as a header with an empty value, and "Name:" as "do not send Name".
        var lines = request.headers.map { $0.value.isEmpty ? "\($0.name);" : "\($0.name): \($0.value)" }
        if !has("Idempotency-Key") { lines.append("Idempotency-Key: \(request.idempotencyKey)") }
        if !has("Content-Type") { lines.append("Content-Type:") }
        if !has("Expect") { lines.append("Expect:") }
        return .success(lines)
    }

    /// One request on a pool thread.
    private static func exchange(
        _ request: HTTPMessage, _ headers: [String], _ configuration: Configuration, _ easy: CurlEasy,
        _ control: TransferControl
    ) -> TransportResult {
        let list = CurlStringList(headers)
        defer { list.free() }
        defer { easy.reset() }  // runs first: the handle lets go of the list before it is freed
        let transfer = CurlTransfer(control: control)
        easy.set(CURLOPT_URL, request.url)
        easy.set(CURLOPT_PROTOCOLS_STR, "http,https")
        let method = request.method.uppercased()
        switch method {
        case "GET" where request.body.isEmpty: easy.set(CURLOPT_HTTPGET, true)
        case "HEAD": easy.set(CURLOPT_NOBODY, true)
        default:
            if method != "POST" { easy.set(CURLOPT_CUSTOMREQUEST, method) }
            if method == "POST" || !request.body.isEmpty {
                // A POST with a custom verb is libcurl's way to send a body with PUT, PATCH or DELETE.
                easy.set(CURLOPT_POST, true)
                ccurl_setopt_off_t(easy.handle, CURLOPT_POSTFIELDSIZE_LARGE, request.body.count)
                // COPYPOSTFIELDS copies the bytes at once, so the body need not outlive the call.
                if request.body.isEmpty {
                    easy.set(CURLOPT_COPYPOSTFIELDS, "")
                } else {
                    request.body.withUnsafeBytes { bytes in
                        _ = ccurl_setopt_pointer(
                            easy.handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                    }
                }
            }
        }
        ccurl_setopt_slist(easy.handle, CURLOPT_HTTPHEADER, list.pointer)
        easy.set(CURLOPT_USERAGENT, configuration.userAgent)
        easy.set(CURLOPT_ACCEPT_ENCODING, "")  // any encoding libcurl can decode
        easy.set(CURLOPT_FOLLOWLOCATION, false)
        easy.set(CURLOPT_CONNECTTIMEOUT_MS, duration: configuration.connectTimeout)
        easy.set(CURLOPT_TIMEOUT_MS, duration: configuration.timeout)
        easy.set(CURLOPT_MAXAGE_CONN, max(1, configuration.maximumIdleTime.milliseconds / 1000))
        easy.set(CURLOPT_SSL_VERIFYPEER, configuration.verifyPeer)
        easy.set(CURLOPT_SSL_VERIFYHOST, configuration.verifyPeer ? 2 : 0)
        if let file = configuration.caCertificateFile { easy.set(CURLOPT_CAINFO, file) }
        transfer.installCommon(on: easy)
        transfer.installResponse(on: easy)

        let code = transfer.run(on: easy)
        let origin = redactedOrigin(request.url)
        guard code == CURLE_OK else {
            return .failed(
                message: "HTTP request to \(origin) failed: \(transfer.errorText(code))",
                permanent: CurlFailure.isPermanent(code), retryAfter: nil)
        }
        let classifier = HTTPResponseClassifier(
            messageIDJSONField: configuration.messageIDJSONField, messageIDHeader: configuration.messageIDHeader)
        return classifier.classify(
            status: easy.responseCode, headers: transfer.headers, body: transfer.body, origin: origin, now: Date())
    }
}
