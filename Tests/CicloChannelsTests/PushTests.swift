import CicloChannels
import Foundation
import Testing

@Suite struct PushTests {
    let gateway = PushGateway(url: "https://push.example.test/v1/send")

    /// A notification whose encoded payload is exactly `bytes` long, padded in the body with ASCII letters.
    func notification(ofPayloadSize bytes: Int) throws -> PushNotification {
        var n = PushNotification(title: "Your offer", body: "", deepLink: "myapp://offers/42", data: ["offer": "42"])
        let base = n.encodedPayload().count
        try #require(bytes >= base)
        n.body = String(repeating: "a", count: bytes - base)
        try #require(n.encodedPayload().count == bytes)
        return n
    }

    @Test func payloadOfExactly4096BytesIsAccepted() throws {
        let n = try notification(ofPayloadSize: 4096)
        let request = try gateway.request(for: n, deviceToken: "device-abc", idempotencyKey: "send-7-1")
        #expect(request.headers.contains(HTTPHeader("Idempotency-Key", "send-7-1")))
        #expect(request.headers.contains(HTTPHeader("Content-Type", "application/json")))
        #expect(request.idempotencyKey == "send-7-1")
    }

    @Test func payloadOf4097BytesIsRejected() throws {
        let n = try notification(ofPayloadSize: 4097)
        let error = #expect(throws: PushError.self) {
            try gateway.request(for: n, deviceToken: "device-abc", idempotencyKey: "send-7-1")
        }
        #expect(error?.code == .tooLarge)
        #expect(error?.reason == "push_too_large")
        #expect(error?.message.contains("4097") == true)
    }

    @Test func sizeIsCountedInUTF8Bytes() {
        let ascii = PushNotification(title: "T", body: "e").encodedPayload().count
        let accented = PushNotification(title: "T", body: "é").encodedPayload().count
        let emoji = PushNotification(title: "T", body: "😀").encodedPayload().count
        #expect(accented == ascii + 1)
        #expect(emoji == ascii + 3)
    }

    @Test func bodyCarriesThePayloadAsMeasuredAndTheToken() throws {
        let n = PushNotification(
            title: "Olá", body: "Nova oferta", deepLink: "https://app.example.test/o/1", data: ["b": "2", "a": "1"])
        let request = try gateway.request(for: n, deviceToken: "tok\"en", idempotencyKey: "k")
        let json = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
        #expect(json["token"] as? String == "tok\"en")
        let payload = try #require(json["payload"] as? [String: Any])
        #expect(payload["title"] as? String == "Olá")
        #expect(payload["body"] as? String == "Nova oferta")
        #expect(payload["deep_link"] as? String == "https://app.example.test/o/1")
        #expect(payload["data"] as? [String: String] == ["a": "1", "b": "2"])
        let text = String(decoding: request.body, as: UTF8.self)
        #expect(text.contains(String(decoding: n.encodedPayload(), as: UTF8.self)))
    }

    @Test func absentDeepLinkAndEmptyDataAreLeftOut() {
        let text = String(decoding: PushNotification(title: "Hi", body: "there").encodedPayload(), as: UTF8.self)
        #expect(text == #"{"body":"there","title":"Hi"}"#)
    }

    @Test(arguments: [("", ""), ("  ", "\n")])
    func emptyTitleAndBodyIsRejected(_ title: String, _ body: String) {
        let error = #expect(throws: PushError.self) {
            try gateway.request(for: PushNotification(title: title, body: body), deviceToken: "d", idempotencyKey: "k")
        }
        #expect(error?.code == .empty)
        #expect(error?.reason == "push_empty")
    }

    @Test func titleOrBodyAloneIsEnough() throws {
        _ = try gateway.request(
            for: PushNotification(title: "Only title", body: ""), deviceToken: "d", idempotencyKey: "k")
        _ = try gateway.request(
            for: PushNotification(title: "", body: "Only body"), deviceToken: "d", idempotencyKey: "k")
    }

    @Test func missingDeviceTokenIsRejected() {
        let error = #expect(throws: PushError.self) {
            try gateway.request(for: PushNotification(title: "T", body: "B"), deviceToken: "", idempotencyKey: "k")
        }
        #expect(error?.code == .missingDeviceToken)
    }
}
