import CicloChannels
import Foundation
import Testing

@Suite struct SMSGatewayTests {
    @Test func requestCarriesTheProviderNeutralBodyAndIdempotencyKey() throws {
        let composition = SMSMessage.compose(
            text: "Olá! Código: 1234", to: try PhoneNumber("912 345 678", defaultCountryCode: "351"), from: "Ciclo",
            policy: SMSPolicy())
        guard case .ready(let message) = composition else {
            Issue.record("expected a ready message, got \(composition)")
            return
        }
        let gateway = SMSGateway(
            url: "https://sms.example.test/v1/messages", headers: [HTTPHeader("Authorization", "Bearer t")])
        let request = gateway.request(for: message, idempotencyKey: "send-42-1")
        #expect(request.method == "POST")
        #expect(request.url == "https://sms.example.test/v1/messages")
        #expect(request.idempotencyKey == "send-42-1")
        #expect(request.headers.contains(HTTPHeader("Idempotency-Key", "send-42-1")))
        #expect(request.headers.contains(HTTPHeader("Content-Type", "application/json")))
        #expect(request.headers.contains(HTTPHeader("Authorization", "Bearer t")))

        let json = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
        #expect(Set(json.keys) == ["to", "from", "text", "encoding", "segments"])
        #expect(json["to"] as? String == "+351912345678")
        #expect(json["from"] as? String == "Ciclo")
        #expect(json["text"] as? String == "Olá! Código: 1234")
        #expect(json["encoding"] as? String == "UCS-2")
        #expect(json["segments"] as? Int == 1)
    }

    @Test func sameMessageGivesTheSameBytes() throws {
        let to = try PhoneNumber("+447700900123")
        guard
            case .ready(let message) = SMSMessage.compose(
                text: "Hi {there}", to: to, from: "+447700900000",
                policy: SMSPolicy())
        else {
            Issue.record("expected a ready message")
            return
        }
        let gateway = SMSGateway(url: "https://sms.example.test")
        let body = gateway.request(for: message, idempotencyKey: "k").body
        #expect(body == gateway.request(for: message, idempotencyKey: "k").body)
        #expect(
            String(decoding: body, as: UTF8.self)
                == #"{"encoding":"GSM-7","from":"+447700900000","segments":1,"text":"Hi {there}","to":"+447700900123"}"#
        )
    }
}
