import ArgumentParser
import CicloChannels
import CicloReporter
import Foundation
import Logging
import Postgres

/// `ciclo unsubscribe-mail`: acts on one message sent to CICLO_UNSUBSCRIBE_MAILBOX, the mailto of every email's
/// `List-Unsubscribe`. Made for an MTA's pipe delivery (a Postfix alias `unsubscribe: "|ciclo unsubscribe-mail"`),
/// whose reading of exit statuses it follows: 75 makes the MTA keep the message and try again, so a request is not
/// lost while the database is away; 65 makes it return the message to its sender with the reason.
struct UnsubscribeMailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unsubscribe-mail",
        abstract: "Act on an unsubscribe request sent by email to the List-Unsubscribe mailbox.",
        discussion: """
            Reads one RFC 5322 message from FILE, or from standard input, and takes the token from its Subject \
            ("unsubscribe <token>", as the mailto link writes it). A valid token suppresses its customer on its \
            channel, as the one-click link does; a repeated request changes nothing.
            Needs CICLO_TOKEN_SECRET (or _FILE), the secret the worker signs links with.
            Exit status: 0 done (or done before), 65 not a valid request (nothing changed), 66 FILE cannot be read, \
            75 the database cannot be reached (try again later), 78 configuration.
            """)

    @Argument(help: "The message file; standard input when omitted or \"-\".") var file: String?

    func run() async throws {
        try await UserError.reporting {
            let environment = CicloEnvironment()
            try environment.bootstrapLogging()
            let logger = Logger(label: "ciclo.unsubscribe-mail")
            let unsubscribe = MailtoUnsubscribe(tokenSecret: try environment.tokenSecret())
            let message = try read()
            let claims: SignedToken.Claims
            do {
                // Checked before connecting: a message that is not a request never waits on the database.
                claims = try unsubscribe.claims(inMessage: message)
            } catch let problem as MailtoUnsubscribe.Problem {
                throw UserError(description: "Not an unsubscribe request: \(problem.description).", exitCode: 65)
            }
            let conn: PostgresConnection
            do {
                conn = try await PostgresConnection.connect(
                    configuration: try environment.database(applicationName: "ciclo-unsubscribe-mail"), logger: logger)
            } catch let error as PostgresError where error.code == .connectionFailed {
                throw UserError(description: "\(error.description) (the request is kept for a later try)", exitCode: 75)
            }
            let outcome = try await unsubscribe.apply(claims, on: conn)
            await conn.close()
            logger.info("unsubscribed by email", metadata: [
                "customer": "\(outcome.customer)", "channel": "\(outcome.channel)", "recorded": "\(outcome.recorded)",
            ])
            print("customer \(outcome.customer) unsubscribed from \(outcome.channel)"
                  + (outcome.recorded ? "" : " (recorded before; nothing changed)"))
        }
    }

    private func read() throws -> [UInt8] {
        let handle: FileHandle
        if let file, file != "-" {
            guard let opened = FileHandle(forReadingAtPath: file) else {
                throw UserError(description: "\(file) cannot be read.", exitCode: 66)
            }
            handle = opened
        } else {
            handle = FileHandle.standardInput
        }
        defer { if handle !== FileHandle.standardInput { try? handle.close() } }
        // Read to the end, in as many reads as a pipe needs, but never more than one byte past the limit: that is
        // enough to know the message is too large.
        var message: [UInt8] = []
        while message.count <= MailtoUnsubscribe.maxBytes {
            guard let chunk = try handle.read(upToCount: MailtoUnsubscribe.maxBytes + 1 - message.count),
                  !chunk.isEmpty
            else { break }
            message.append(contentsOf: chunk)
        }
        return message
    }
}
