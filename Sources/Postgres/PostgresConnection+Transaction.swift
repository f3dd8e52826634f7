/// How a transaction starts.
public struct TransactionOptions: Sendable {
    public enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }
    public var isolation: IsolationLevel?
    public var readOnly: Bool

    public init(isolation: IsolationLevel? = nil, readOnly: Bool = false) {
        self.isolation = isolation
        self.readOnly = readOnly
    }

    var beginStatement: String {
        var sql = "BEGIN"
        if let isolation { sql += " ISOLATION LEVEL \(isolation.rawValue)" }
        if readOnly { sql += " READ ONLY" }
        return sql
    }
}

extension PostgresConnection {
    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws (cancellation included).
    ///
    /// Until it ends, the connection belongs to the calling task: another task's statement on it fails with
    /// `.misuse`. A nested call makes a savepoint, so the inner part can fail alone. Ownership travels with the
    /// task-local scope, so child tasks of the body count as the owner; a `Task.detached` does not. Do not start
    /// unstructured work in the body that could outlive it.
    public func withTransaction<T>(
        _ options: TransactionOptions = .init(), file: String = #fileID, line: Int = #line,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try checkOwner(file: file, line: line)
        if let owner = transactionOwner {
            return try await withSavepoint(owner: owner, file: file, line: line, body)
        }
        try await query(options.beginStatement, file: file, line: line)
        let token = TransactionScope.newToken()
        transactionOwner = token
        transactionDepth = 1
        do {
            let (value, commit) = try await TransactionScope.$held.withValue(TransactionScope.held.union([token])) {
                let value = try await body(self)
                return (value, try await query("COMMIT", file: file, line: line))
            }
            endTransaction(token)
            // COMMIT of a transaction that an earlier error aborted answers ROLLBACK instead of failing: the body
            // swallowed an error, and its writes are gone. Say so rather than report success.
            if commit.commandTag == "ROLLBACK" {
                throw PostgresError(
                    code: .misuse,
                    message: "The transaction was rolled back because a statement in it failed and the error was caught",
                    file: file, line: line)
            }
            return value
        } catch {
            await rollback(token: token, file: file, line: line)
            throw error
        }
    }

    private func withSavepoint<T>(
        owner: UInt64, file: String, line: Int, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        transactionDepth += 1
        let name = "ciclo_savepoint_\(transactionDepth)"
        defer { if transactionOwner == owner { transactionDepth -= 1 } }
        try await query("SAVEPOINT \(name)", file: file, line: line)
        do {
            let value = try await body(self)
            try await query("RELEASE SAVEPOINT \(name)", file: file, line: line)
            return value
        } catch {
            // A lost connection has no savepoint left to roll back to; anything else unwinds just this level.
            if transactionOwner == owner {
                _ = try? await withLiveHandle(file: file, line: line) { conn in
                    try self.execute(conn, "ROLLBACK TO SAVEPOINT \(name)", EncodedParameters([]),
                                     prepared: false, file: file, line: line)
                }
            }
            throw error
        }
    }

    /// Rolls back even when the task is cancelled: leaving a transaction open would hold its locks.
    private func rollback(token: UInt64, file: String, line: Int) async {
        guard transactionOwner == token else { return }
        endTransaction(token)
        // With the connection gone, the server has already rolled back; reconnecting just to say so helps no one.
        guard let conn = healthyHandle() else { return }
        do {
            _ = try execute(conn, "ROLLBACK", EncodedParameters([]), prepared: false, file: file, line: line)
        } catch {
            logger.warning("rollback failed; the server ends the transaction with the session", metadata: [
                "error": "\(error)"
            ])
        }
    }

    private func endTransaction(_ token: UInt64) {
        if transactionOwner == token {
            transactionOwner = nil
            transactionDepth = 0
        }
    }
}
