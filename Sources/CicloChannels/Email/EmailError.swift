import Foundation

/// Why an email could not be built. Every such failure is permanent: the same inputs fail the same way on a retry,
/// so the send should fail at once (or the customer be suppressed) rather than be retried.
///
/// `description` is one sentence safe to show a person or to store as a send's failure reason: it names the field
/// and the problem but never quotes the offending value, which may be a customer's address. `debugDescription`
/// adds the value.
public struct EmailError: Error, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is. New codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case emptyAddress, missingAtSign, invalidLocalPart, nonASCIILocalPart, invalidDomain
            case addressTooLong, localPartTooLong, controlCharacter, whitespace, headerInjection
            case invalidHeaderName, reservedHeader, invalidUnsubscribe, noRecipients, emptySubject, emptyBody
            case emptyIdempotencyKey, valueTooLong
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The address is empty or only whitespace.
        public static let emptyAddress = Code(.emptyAddress)
        /// The address has no `@` between a local part and a domain.
        public static let missingAtSign = Code(.missingAtSign)
        /// The part before the `@` is not a dot-atom (RFC 5322 3.4.1).
        public static let invalidLocalPart = Code(.invalidLocalPart)
        /// The part before the `@` has non-ASCII characters, which need SMTPUTF8 (RFC 6531); Ciclo does not use it.
        public static let nonASCIILocalPart = Code(.nonASCIILocalPart)
        /// The domain is not a valid internet host name, or cannot be converted to IDNA.
        public static let invalidDomain = Code(.invalidDomain)
        /// The address is longer than 254 octets (RFC 5321 4.5.3.1 and its erratum 1690).
        public static let addressTooLong = Code(.addressTooLong)
        /// The local part is longer than 64 octets (RFC 5321 4.5.3.1.1).
        public static let localPartTooLong = Code(.localPartTooLong)
        /// A control character (other than CR or LF) is in an address or a header.
        public static let controlCharacter = Code(.controlCharacter)
        /// An address contains a space or a tab.
        public static let whitespace = Code(.whitespace)
        /// A CR or LF is in a header value, a name, an address or a URL: it could add headers, so it is refused.
        public static let headerInjection = Code(.headerInjection)
        /// An extra header's name is not printable ASCII without a colon (RFC 5322 2.2).
        public static let invalidHeaderName = Code(.invalidHeaderName)
        /// An extra header would duplicate or override one that the renderer writes itself.
        public static let reservedHeader = Code(.reservedHeader)
        /// The unsubscribe URL is not https, or the unsubscribe mailto is not a valid mailto URI.
        public static let invalidUnsubscribe = Code(.invalidUnsubscribe)
        /// The message has no To address.
        public static let noRecipients = Code(.noRecipients)
        /// The subject is empty: a campaign email without one is a rendering mistake, not something to send.
        public static let emptySubject = Code(.emptySubject)
        /// The HTML body is empty.
        public static let emptyBody = Code(.emptyBody)
        /// The idempotency key that seeds the Message-ID is empty.
        public static let emptyIdempotencyKey = Code(.emptyIdempotencyKey)
        /// A value cannot fit a header line of at most 998 octets.
        public static let valueTooLong = Code(.valueTooLong)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// Which input was wrong, e.g. "to", "from", "subject", "header X-Campaign" or "unsubscribe URL".
    public var field: String
    /// The problem, without the value: safe to show and to store.
    public var reason: String
    /// The offending value. Shown only by `debugDescription`: it may be a customer's address.
    public var value: String

    public init(_ code: Code, field: String, reason: String, value: String) {
        self.code = code
        self.field = field
        self.reason = reason
        self.value = value
    }

    /// Always true: rendering is deterministic, so retrying cannot succeed where this attempt failed.
    public var isPermanent: Bool { true }

    public var description: String {
        "Cannot build the email: the \(field) is invalid (\(reason)); correct it or suppress the send."
    }

    public var debugDescription: String {
        "EmailError.\(code) in \(field): \(reason); value: \(value.debugDescription)"
    }

    /// The same error attributed to another field, e.g. an address error surfacing as the "to" field's.
    func with(field: String) -> EmailError {
        var copy = self
        copy.field = field
        return copy
    }
}
