import Foundation

/// An error from the PostgreSQL client: a server error with its SQLSTATE, or a client-side failure.
///
/// `description` is one sentence that is safe to show a person: it carries the server's primary message but never
/// the statement, the detail (which may quote row values) or connection secrets. `debugDescription` has everything.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is. New codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case connectionFailed, connectionLost, server, queryCanceled, encoding, decoding, misuse, protocolError
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The connection could not be opened.
        public static let connectionFailed = Code(.connectionFailed)
        /// The connection broke while in use (server restart, backend terminated, network); the next use reconnects.
        public static let connectionLost = Code(.connectionLost)
        /// The server rejected the statement; `sqlState` says why.
        public static let server = Code(.server)
        /// The statement was cancelled, by a cancelled Swift task or by the server (SQLSTATE 57014).
        public static let queryCanceled = Code(.queryCanceled)
        /// A Swift value could not be sent as a parameter.
        public static let encoding = Code(.encoding)
        /// A result column could not be read as the requested Swift type.
        public static let decoding = Code(.decoding)
        /// The client was used in a way it does not allow (for instance by two owners at once).
        public static let misuse = Code(.misuse)
        /// libpq reported something the client did not expect.
        public static let protocolError = Code(.protocolError)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// The five-character SQLSTATE, when the server sent one.
    public var sqlState: String?
    /// The server's or the client's primary message.
    public var message: String
    public var detail: String?
    public var hint: String?
    /// 1-based character position of the error in the statement, when the server gave one.
    public var position: Int?
    /// The statement that failed. Shown only by `debugDescription`.
    public var statement: String?
    public var file: String
    public var line: Int

    public init(
        code: Code, message: String, sqlState: String? = nil, detail: String? = nil, hint: String? = nil,
        position: Int? = nil, statement: String? = nil, file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.position = position
        self.statement = statement
        self.file = file
        self.line = line
    }

    public var description: String {
        switch code {
        case .connectionFailed:
            // A refused certificate is not a server that is down: say what to check instead.
            let tls = message.contains("certificate") || message.contains("SSL error")
            let advice = tls
                ? "check that sslrootcert names the CA that signed the server's certificate and that the URL's host "
                    + "is a name the certificate carries"
                : "check the database URL and that the server is up"
            return "Could not connect to PostgreSQL (\(firstClause)); \(advice)."
        case .connectionLost:
            return "The connection to PostgreSQL was lost (\(firstClause)); the next use reconnects."
        case .server, .queryCanceled:
            if let sqlState { return "PostgreSQL error \(sqlState): \(message)." }
            return "PostgreSQL error: \(message)."
        default:
            return message.hasSuffix(".") ? message : message + "."
        }
    }

    /// libpq's messages run to several lines and sentences; a one-sentence description keeps the first.
    private var firstClause: String {
        let first = message.split(separator: ";", maxSplits: 1).first.map(String.init) ?? message
        return first.trimmingCharacters(in: CharacterSet(charactersIn: ". "))
    }

    public var debugDescription: String {
        var parts = ["PostgresError(code: \(code)"]
        if let sqlState { parts.append("sqlState: \(sqlState)") }
        parts.append("message: \(message)")
        if let detail { parts.append("detail: \(detail)") }
        if let hint { parts.append("hint: \(hint)") }
        if let position { parts.append("position: \(position)") }
        if let statement { parts.append("statement: \(statement)") }
        parts.append("at: \(file):\(line)")
        return parts.joined(separator: ", ") + ")"
    }
}

extension PostgresError {
    /// SQLSTATE values the code base reacts to. The full list is in PostgreSQL's appendix A.
    public enum SQLState {
        public static let uniqueViolation = "23505"
        public static let foreignKeyViolation = "23503"
        public static let syntaxError = "42601"
        public static let undefinedTable = "42P01"
        public static let queryCanceled = "57014"
        public static let adminShutdown = "57P01"
        public static let serializationFailure = "40001"
        public static let deadlockDetected = "40P01"
        public static let lockNotAvailable = "55P03"
    }
}
