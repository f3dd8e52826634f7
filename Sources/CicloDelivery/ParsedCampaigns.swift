import Foundation
import Postgres
import Synchronization

/// Each campaign's JSON, which the claim returns with every job, parsed once per worker. Decoding the win-back
/// example's 3.6 KB took about a millisecond, more than everything else a real email send costs the worker together
/// (`make bench-render`: the channel handler drained a campaign's email jobs at a tenth of the null handler's rate),
/// and a campaign's JSON only changes when the campaign is applied again. A job whose JSON differs from the kept
/// text, byte for byte, is parsed again and replaces it, so a change applies from the next job on.
final class ParsedCampaigns: Sendable {
    private struct Entry {
        var text: String
        var object: [String: JSONValue]
    }

    /// Campaigns a worker sends for at once are few; past this many the cache starts again.
    private static let limit = 1_000
    private let entries = Mutex<[Int64: Entry]>([:])

    func object(campaignID: Int64?, json: JSONB?) -> [String: JSONValue] {
        guard let campaignID, let json else { return SendContext.object(json) }
        if let kept = entries.withLock({ $0[campaignID] }), Self.sameBytes(kept.text, json.text) { return kept.object }
        let object = SendContext.object(json)
        entries.withLock { entries in
            if entries.count >= Self.limit { entries.removeAll() }
            entries[campaignID] = Entry(text: json.text, object: object)
        }
        return object
    }

    /// Byte equality: `==` on strings compares canonical equivalence, which walks non-ASCII text (the templates'
    /// accents) scalar by scalar; the same JSON from the same stored row is the same bytes.
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { a in
            b.withUTF8 { b in a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0) }
        }
    }
}
