import CicloQueue
import Foundation
import Postgres
import Testing

@testable import CicloDelivery

/// How the worker reads a claimed job's JSON: every kind of value as itself, and each campaign parsed once.
@Suite("Send context")
struct SendContextTests {
    static func job(campaignID: Int64?, campaign: String?) -> ClaimedJob {
        ClaimedJob(
            id: 1, campaignID: campaignID, customerID: 7, channel: "email", idempotencyKey: "k-1", priority: 0,
            attempt: 1, maxAttempts: 3, payload: JSONB(#"{"variant": "B", "variables": {"code": 10}}"#),
            runAt: PostgresTimestamp(Date()), blockedReason: nil,
            customer: CustomerText(
                fields: ["email": "ana@example.com", "locale": ""], attributes: ["first_name": "Ana"]),
            campaign: campaign.map(JSONB.init))
    }

    @Test("strings, objects, booleans, integers, numbers, arrays and null each decode as themselves")
    func valuesKeepTheirKind() throws {
        let text = #"""
            {"s": "verão", "empty": "", "t": true, "f": false, "zero": 0, "one": 1, "negative": -12,
             "big": 9223372036854775807, "real": 1.5, "whole real": 3.0, "exponent": 1e3, "list": [1, "a", false],
             "object": {"inner": "x"}, "null": null}
            """#
        let object = SendContext.object(JSONB(text))
        #expect(object.count == 14)
        #expect(SendContext.scalar(object["s"]) == "verão")
        #expect(SendContext.scalar(object["empty"]) == "")
        guard case .bool(true)? = object["t"], case .bool(false)? = object["f"] else {
            Issue.record("booleans: \(String(describing: object["t"])), \(String(describing: object["f"]))")
            return
        }
        for (key, value) in [("zero", 0), ("one", 1), ("negative", -12), ("big", Int64.max)] as [(String, Int64)] {
            guard case .integer(let decoded)? = object[key], decoded == value else {
                Issue.record("\(key): \(String(describing: object[key]))")
                continue
            }
        }
        guard case .number(1.5)? = object["real"], case .array(let list)? = object["list"], list.count == 3,
            case .object(let inner)? = object["object"], SendContext.scalar(inner["inner"]) == "x",
            case .null? = object["null"]
        else {
            Issue.record("\(object)")
            return
        }
        // 3.0 and 1e3 are whole numbers: JSONDecoder reads them as integers, as it did before the order changed.
        #expect(SendContext.scalar(object["whole real"]) == "3")
        #expect(SendContext.scalar(object["exponent"]) == "1000")
    }

    @Test("a campaign's JSON is parsed once, parsed again when its text changes, and kept apart per campaign")
    func campaignsParsedOnce() {
        let parsed = ParsedJSON()
        let first = #"{"key": "winback", "name": "Volte já"}"#
        let context = SendContext(Self.job(campaignID: 1, campaign: first), parsed: parsed)
        #expect(context.campaignKey == "winback")
        #expect(context.customerField("email") == "ana@example.com")
        #expect(context.customerField("locale") == nil, "an empty field is no field")
        let values = context.values(links: nil)
        #expect(values["customer.first_name"] == "Ana" && values["customer.attributes.first_name"] == "Ana")
        #expect(values["customer.locale"] == "" && values["code"] == "10" && values["send.key"] == "k-1")
        #expect(context.variant == "B")
        // The same campaign id with other text (applied again): the new text is what counts.
        let changed = SendContext(Self.job(campaignID: 1, campaign: #"{"key": "winback", "name": "Nova"}"#),
                                  parsed: parsed)
        #expect(SendContext.scalar(changed.campaign["name"]) == "Nova")
        let other = SendContext(Self.job(campaignID: 2, campaign: #"{"key": "other"}"#), parsed: parsed)
        #expect(other.campaignKey == "other")
        #expect(SendContext(Self.job(campaignID: 1, campaign: first), parsed: parsed).campaignKey == "winback")
        // Parsed: the first text, the changed one, the other campaign, the first again (it was replaced), and the
        // one payload all five jobs share.
        #expect(parsed.parseCount == 5)
        _ = SendContext(Self.job(campaignID: 1, campaign: first), parsed: parsed)
        #expect(parsed.parseCount == 5, "the same campaign and payload again are found, not parsed")
        // No campaign: an empty object, nothing kept.
        #expect(SendContext(Self.job(campaignID: nil, campaign: nil), parsed: parsed).campaign.isEmpty)
        // Payloads are kept by their bytes too: the same variables written in two normalisations stay apart.
        let composed = parsed.payload(JSONB(#"{"variant": "A", "variables": {"name": "ação"}}"#))
        let decomposed = parsed.payload(JSONB("{\"variant\": \"A\", \"variables\": {\"name\": \"aça\u{0303}o\"}}"))
        guard case .object(let first)? = composed["variables"], case .object(let second)? = decomposed["variables"],
            case .string(let one)? = first["name"], case .string(let other)? = second["name"]
        else {
            Issue.record("\(composed), \(decomposed)")
            return
        }
        #expect(Array(one.utf8) == Array("ação".utf8) && Array(other.utf8) == Array("aça\u{0303}o".utf8))
        #expect(parsed.payload(JSONB(#"{"variant": "B"}"#))["variant"] == .string("B"))
        #expect(ParsedJSON.sameBytes("ação", "ação"))
        // The same text in another normalisation (a + combining tilde) is other bytes: parsed again, never wrong.
        #expect(!ParsedJSON.sameBytes("ação", "aça\u{0303}o"))
    }
}
