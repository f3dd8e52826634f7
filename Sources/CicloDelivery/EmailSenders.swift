import CicloChannels
import Synchronization

/// The `EmailSender` of each campaign a worker sends for, built on its first send: From, Reply-To and the campaign
/// header are then checked and written once, not per email. A sender that cannot be built (an invalid From) is not
/// kept, so each send reports it.
final class EmailSenders: Sendable {
    private struct Key: Hashable {
        var from: String?
        var replyTo: String?
        var campaign: String
    }

    /// Campaigns a worker sends for at once are few; past this many senders the cache starts again.
    private static let limit = 1_000
    private let senders = Mutex<[Key: EmailSender]>([:])

    func sender(
        from: String?, replyTo: String?, campaign: String, make: () throws(EmailError) -> EmailSender
    ) throws(EmailError) -> EmailSender {
        let key = Key(from: from, replyTo: replyTo, campaign: campaign)
        if let sender = senders.withLock({ $0[key] }) { return sender }
        let sender = try make()
        senders.withLock { senders in
            if senders.count >= Self.limit { senders.removeAll() }
            senders[key] = sender
        }
        return sender
    }
}
