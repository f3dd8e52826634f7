import Foundation
import Postgres
import Synchronization

/// The JSON a worker reads again and again, parsed once: each campaign's, which the claim returns with every job,
/// and job payloads, which repeat (a campaign pass gives all its sends the same variables; they differ by variant
/// and occasion). `JSONDecoder` took about a millisecond for the win-back example's whole definition and several
/// microseconds for a payload, more than rendering the email (`make bench-render`).
final class ParsedJSON: Sendable {
    private struct Campaign {
        var text: String
        var object: [String: JSONValue]
    }

    /// Campaigns and payloads a worker sees at once are few; past this many of either, that cache starts again.
    private static let limit = 1_000
    private let campaigns = Mutex<[Int64: Campaign]>([:])
    /// Kept by the text's bytes, for the reason `sameBytes` gives.
    private let payloads = Mutex<[[UInt8]: [String: JSONValue]]>([:])
    private let parses = Mutex(0)

    /// How many texts were parsed rather than found (for tests).
    var parseCount: Int { parses.withLock { $0 } }

    private func parse(_ json: JSONB?) -> [String: JSONValue] {
        parses.withLock { $0 += 1 }
        return SendContext.object(json)
    }

    /// A campaign's JSON. A job whose JSON differs from the kept text, byte for byte, is parsed again and replaces
    /// it, so a campaign applied again counts from its next job on.
    func campaign(_ campaignID: Int64?, json: JSONB?) -> [String: JSONValue] {
        guard let campaignID, let json else { return SendContext.object(json) }
        if let kept = campaigns.withLock({ $0[campaignID] }), Self.sameBytes(kept.text, json.text) {
            return kept.object
        }
        let object = parse(json)
        campaigns.withLock { campaigns in
            if campaigns.count >= Self.limit { campaigns.removeAll() }
            campaigns[campaignID] = Campaign(text: json.text, object: object)
        }
        return object
    }

    /// A job's payload, kept by its text.
    func payload(_ json: JSONB) -> [String: JSONValue] {
        let key = Array(json.text.utf8)
        if let kept = payloads.withLock({ $0[key] }) { return kept }
        let object = parse(json)
        payloads.withLock { payloads in
            if payloads.count >= Self.limit { payloads.removeAll() }
            payloads[key] = object
        }
        return object
    }

    /// Byte equality: `==` on strings compares canonical equivalence, which walks non-ASCII text (the templates'
    /// accents) scalar by scalar; the same JSON from the same stored row is the same bytes.
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { a in
            b.withUTF8 { b in
                a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
            }
        }
    }
}
