import CCurl
import CicloChannels
import Foundation
import Logging

/// Delivers email to an SMTP relay through libcurl.
///
/// Each pooled handle keeps its SMTP session open between messages (no new TCP, TLS, EHLO and AUTH per message) until
/// it has been idle for `maximumIdleTime`. Every failure is classified: reply codes 5xx are permanent and 4xx
/// transient, as RFC 5321 means them; connection failures, timeouts and TLS failures are transient. A message with
/// several recipients is delivered to all of them or to none: one refused recipient aborts the transaction, so a
/// retry never sends a second copy to the ones that were accepted.
///
/// Make one per relay and share it: its handles, threads and open sessions live as long as it does.
public final class SMTPTransport: EmailTransport {
    /// How to reach the relay and how long to wait for it.
    public struct Configuration: Sendable, CustomStringConvertible {
        /// Whether the session is encrypted with STARTTLS. An `smtps://` URL is always encrypted (implicit TLS).
        public enum STARTTLS: Sendable {
            /// Plain text, for a relay on localhost or a private network.
            case off
            /// Encrypt when the relay offers STARTTLS, otherwise continue in plain text.
            case opportunistic
            /// Encrypt or fail (transiently, since a relay's TLS set-up can be repaired without touching the send).
            case required
        }

        /// `smtp://host:port` or `smtps://host:port`; a path (`smtp://host/name`) sets the EHLO name. Put no
        /// credentials here: use `username` and `password`.
        public var url: String
        /// Whether to encrypt an `smtp://` session with STARTTLS.
        public var startTLS: STARTTLS
        /// The AUTH user name; no AUTH when nil.
        public var username: String?
        /// Never logged, and left out of `description`.
        public var password: String?
        /// The bound on opening a connection (TCP, and TLS for `smtps://`).
        public var connectTimeout: Duration
        /// The bound on one whole delivery: connecting, every reply and the upload.
        public var timeout: Duration
        /// Easy handles in the pool: concurrent deliveries and open SMTP sessions.
        public var maximumConnections: Int
        /// An open session idle for longer is closed rather than reused (relays drop idle clients after minutes).
        public var maximumIdleTime: Duration
        /// Whether the relay's certificate and host name are checked; turn off only for a test relay.
        public var verifyPeer: Bool
        /// A PEM bundle of CA certificates to trust instead of the system's.
        public var caCertificateFile: String?

        /// A relay configuration; the defaults suit a relay on the Internet with STARTTLS.
        public init(
            url: String, startTLS: STARTTLS = .required, username: String? = nil, password: String? = nil,
            connectTimeout: Duration = .seconds(10), timeout: Duration = .seconds(60), maximumConnections: Int = 2,
            maximumIdleTime: Duration = .seconds(60), verifyPeer: Bool = true, caCertificateFile: String? = nil
        ) {
            self.url = url
            self.startTLS = startTLS
            self.username = username
            self.password = password
            self.connectTimeout = connectTimeout
            self.timeout = timeout
            self.maximumConnections = maximumConnections
            self.maximumIdleTime = maximumIdleTime
            self.verifyPeer = verifyPeer
            self.caCertificateFile = caCertificateFile
        }

        /// The relay's origin and the settings, without the URL's path or any credential.
        public var description: String {
            let secret = password == nil ? "-" : "***"
            return "SMTP \(redactedOrigin(url)) starttls=\(startTLS) user=\(username ?? "-") password=\(secret)"
        }
    }

    /// The settings this transport was made with.
    public let configuration: Configuration
    private let logger: Logger
    private let pool: CurlPool

    /// A transport with no open connection yet: the first send connects.
    public init(configuration: Configuration, logger: Logger = Logger(label: "ciclo.transports.smtp")) {
        self.configuration = configuration
        self.logger = logger
        self.pool = CurlPool(size: configuration.maximumConnections)
    }

    deinit { pool.shutdown() }

    /// Sends one message; never throws: every outcome is a `TransportResult`.
    public func send(_ email: EmailEnvelope) async -> TransportResult {
        if let problem = Self.addressProblem(email) {
            return .failed(message: problem, permanent: true, retryAfter: nil)
        }
        let configuration = configuration
        let result = await pool.perform { easy, control in Self.deliver(email, configuration, easy, control) }
        switch result {
        case .delivered(let id):
            logger.debug("email delivered", metadata: ["message-id": "\(email.messageID)", "queue-id": "\(id ?? "-")"])
        case .failed(let message, let permanent, _):
            logger.info(
                "email not delivered",
                metadata: [
                    "message-id": "\(email.messageID)", "permanent": "\(permanent)", "reason": "\(message)",
                ])
        case .throttled(let message, _):
            logger.info("email throttled", metadata: ["message-id": "\(email.messageID)", "reason": "\(message)"])
        }
        return result
    }

    /// A sender or recipient that must not reach the relay: a CR or LF would let an address inject SMTP commands.
    static func addressProblem(_ email: EmailEnvelope) -> String? {
        if email.recipients.isEmpty { return "The email has no recipients." }
        for address in [email.from] + email.recipients where address.contains(where: { "\r\n\0".contains($0) }) {
            return "The email address \(address.debugDescription) contains a line break or NUL; it cannot be sent."
        }
        if let empty = email.recipients.first(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            return "The email has an empty recipient address \(empty.debugDescription)."
        }
        return nil
    }

    /// One SMTP transaction on a pool thread: MAIL FROM, RCPT TO each recipient, DATA.
    private static func deliver(
        _ email: EmailEnvelope, _ configuration: Configuration, _ easy: CurlEasy, _ control: TransferControl
    ) -> TransportResult {
        let recipients = CurlStringList(email.recipients)
        defer { recipients.free() }
        defer { easy.reset() }  // runs first: the handle lets go of the list before it is freed
        let transfer = CurlTransfer(control: control, upload: email.message)
        easy.set(CURLOPT_URL, configuration.url)
        easy.set(CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        // libcurl adds the angle brackets, and "<>" for an empty sender (the null reverse-path of a bounce).
        easy.set(CURLOPT_MAIL_FROM, email.from)
        ccurl_setopt_slist(easy.handle, CURLOPT_MAIL_RCPT, recipients.pointer)
        let useSSL =
            switch configuration.startTLS {
            case .off: CURLUSESSL_NONE
            case .opportunistic: CURLUSESSL_TRY
            case .required: CURLUSESSL_ALL
            }
        easy.set(CURLOPT_USE_SSL, Int(useSSL.rawValue))
        if let username = configuration.username { easy.set(CURLOPT_USERNAME, username) }
        if let password = configuration.password { easy.set(CURLOPT_PASSWORD, password) }
        easy.set(CURLOPT_CONNECTTIMEOUT_MS, duration: configuration.connectTimeout)
        easy.set(CURLOPT_TIMEOUT_MS, duration: configuration.timeout)
        easy.set(CURLOPT_MAXAGE_CONN, max(1, configuration.maximumIdleTime.milliseconds / 1000))
        easy.set(CURLOPT_SSL_VERIFYPEER, configuration.verifyPeer)
        easy.set(CURLOPT_SSL_VERIFYHOST, configuration.verifyPeer ? 2 : 0)
        if let file = configuration.caCertificateFile { easy.set(CURLOPT_CAINFO, file) }
        transfer.installCommon(on: easy)
        transfer.installUpload(on: easy)
        transfer.installReplyTrace(on: easy)

        let code = transfer.run(on: easy)
        if code == CURLE_OK {
            return .delivered(providerMessageID: transfer.lastReply.flatMap(queueID(fromReply:)) ?? email.messageID)
        }
        return classify(
            code, reply: transfer.failureReply, transfer: transfer, origin: redactedOrigin(configuration.url))
    }

    /// Chooses permanent or transient for a failed transaction.
    ///
    /// When libcurl failed because the relay said no, its reply code decides: 5xx permanent (550 no such user, 553
    /// bad address, 554 rejected), 4xx transient (421, 450, 451, 452). That includes AUTH: a 535 for a wrong password
    /// is permanent, because the same credentials will be refused on every retry, and failing at once makes the
    /// configuration error visible instead of hiding it behind hours of backoff; the sends stay, failed, for an
    /// operator to retry once the password is fixed. A 454 (temporary AUTH failure) stays transient.
    static func classify(
        _ code: CURLcode, reply: (code: Int, line: String)?, transfer: CurlTransfer, origin: String
    ) -> TransportResult {
        let refusals = [
            CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_LOGIN_DENIED, CURLE_WEIRD_SERVER_REPLY,
            CURLE_REMOTE_ACCESS_DENIED, CURLE_USE_SSL_FAILED,
        ]
        if let reply, refusals.contains(code) {
            let permanent = reply.code >= 500 && code != CURLE_USE_SSL_FAILED
            var what = permanent ? "refused the message" : "deferred the message"
            if code == CURLE_LOGIN_DENIED { what = "refused our credentials" }
            return .failed(
                message: "The SMTP relay \(origin) \(what) (\(reply.code)): \(excerpt(reply.line))",
                permanent: permanent, retryAfter: nil)
        }
        return .failed(
            message: "SMTP delivery through \(origin) failed: \(transfer.errorText(code))",
            permanent: CurlFailure.isPermanent(code), retryAfter: nil)
    }

    /// The relay's id for an accepted message, from its final reply: "250 2.0.0 Ok: queued as 4F2A1C" (Postfix,
    /// SendGrid) or "250 Ok 0100018f...-000000" (Amazon SES). Bounces and provider events quote it.
    static func queueID(fromReply line: String) -> String? {
        guard line.hasPrefix("250") else { return nil }
        let words = line.split(separator: " ").map(String.init)
        if let queued = words.firstIndex(where: { $0.lowercased() == "as" }), queued + 1 < words.count,
            queued > 0, words[queued - 1].lowercased() == "queued"
        {
            return words[queued + 1]
        }
        if words.count == 3, words[1].lowercased().hasPrefix("ok") { return words[2] }
        return nil
    }
}
