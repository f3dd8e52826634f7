import CicloChannels
import Foundation
import Testing

@Suite struct WebhookTests {
    static let secret = "whsec_test_4f8a"
    static let body = Data(#"{"event":"purchase","order":"A-1001","total":"49.90"}"#.utf8)
    static let signedAt = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
    /// Computed independently of swift-crypto, with Python's hmac module:
    /// python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec_test_4f8a",
    ///   b"1767225600." + b"{\"event\":\"purchase\",\"order\":\"A-1001\",\"total\":\"49.90\"}",
    ///   hashlib.sha256).hexdigest())'
    static let expectedSignature = "sha256=7987e0aa5c782935de2ec596a7845d6790ff7c75b668b2fa5215b6e5a2e5b6eb"

    let endpoint = WebhookEndpoint(url: "https://hooks.example.test/ciclo", secret: WebhookTests.secret)

    func signed() throws -> HTTPMessage {
        try endpoint.request(body: Self.body, idempotencyKey: "send-9-1", now: Self.signedAt)
    }

    @Test func signsWithTheKnownVectorAndCarriesTheHeaders() throws {
        let request = try signed()
        #expect(request.method == "POST")
        #expect(request.url == "https://hooks.example.test/ciclo")
        #expect(request.body == Self.body)
        #expect(request.headers.contains(HTTPHeader("Content-Type", "application/json")))
        #expect(request.headers.contains(HTTPHeader("Idempotency-Key", "send-9-1")))
        #expect(request.headers.contains(HTTPHeader("X-Ciclo-Timestamp", "1767225600")))
        #expect(request.headers.contains(HTTPHeader("X-Ciclo-Signature", Self.expectedSignature)))
    }

    @Test func verifiesTheKnownVector() throws {
        try WebhookSignature.verify(
            body: Self.body, timestamp: "1767225600", signature: Self.expectedSignature, secret: Self.secret,
            now: Self.signedAt.addingTimeInterval(5))
        // Header names are case-insensitive, and hex digits may arrive upper-case.
        try WebhookSignature.verify(
            body: Self.body, timestamp: "1767225600",
            signature: "sha256=" + Self.expectedSignature.dropFirst(7).uppercased(),
            secret: Self.secret, now: Self.signedAt)
        var request = try signed()
        request.headers = request.headers.map { HTTPHeader($0.name.lowercased(), $0.value) }
        try WebhookSignature.verify(request, secret: Self.secret, now: Self.signedAt)
    }

    @Test func tamperedBodyIsRejected() throws {
        var request = try signed()
        request.body = Data(#"{"event":"purchase","order":"A-1001","total":"0.01"}"#.utf8)
        let error = #expect(throws: WebhookError.self) {
            try WebhookSignature.verify(request, secret: Self.secret, now: Self.signedAt)
        }
        #expect(error?.code == .signatureMismatch)
    }

    @Test func tamperedTimestampIsRejected() throws {
        var request = try signed()
        request.headers = request.headers.map {
            $0.name == "X-Ciclo-Timestamp" ? HTTPHeader($0.name, "1767225601") : $0
        }
        let error = #expect(throws: WebhookError.self) {
            try WebhookSignature.verify(request, secret: Self.secret, now: Self.signedAt)
        }
        #expect(error?.code == .signatureMismatch)
    }

    @Test func wrongSecretIsRejected() throws {
        let request = try signed()
        let error = #expect(throws: WebhookError.self) {
            try WebhookSignature.verify(request, secret: "whsec_test_4f8b", now: Self.signedAt)
        }
        #expect(error?.code == .signatureMismatch)
    }

    @Test(arguments: [-301.0, 301, 86_400])
    func timestampOutsideToleranceIsRejected(_ offset: Double) throws {
        let request = try signed()
        let error = #expect(throws: WebhookError.self) {
            try WebhookSignature.verify(request, secret: Self.secret, now: Self.signedAt.addingTimeInterval(offset))
        }
        #expect(error?.code == .staleTimestamp)
    }

    @Test(arguments: [-300.0, 0, 300])
    func timestampWithinToleranceIsAccepted(_ offset: Double) throws {
        try WebhookSignature.verify(try signed(), secret: Self.secret, now: Self.signedAt.addingTimeInterval(offset))
    }

    @Test func toleranceIsConfigurable() throws {
        let error = #expect(throws: WebhookError.self) {
            try WebhookSignature.verify(
                try signed(), secret: Self.secret, now: Self.signedAt.addingTimeInterval(61), tolerance: .seconds(60))
        }
        #expect(error?.code == .staleTimestamp)
    }

    @Test(
        arguments: [
            ("1767225600", nil, WebhookError.Code.missingHeader),
            (nil, expectedSignature, .missingHeader),
            ("yesterday", expectedSignature, .malformedTimestamp),
            ("1767225600", String(expectedSignature.dropFirst(7)), .malformedSignature),
            ("1767225600", String(expectedSignature.dropLast()), .malformedSignature),
            ("1767225600", "sha256=" + String(repeating: "zz", count: 32), .malformedSignature),
            ("1767225600", "sha1=" + String(expectedSignature.dropFirst(7)), .malformedSignature),
        ] as [(String?, String?, WebhookError.Code)])
    func malformedHeadersAreRejected(_ timestamp: String?, _ signature: String?, _ code: WebhookError.Code) {
        let error = #expect(throws: WebhookError.self) {
            try WebhookSignature.verify(
                body: Self.body, timestamp: timestamp, signature: signature, secret: Self.secret, now: Self.signedAt)
        }
        #expect(error?.code == code)
    }

    @Test func sendingNeedsASecretAndAJSONBody() {
        let noSecret = WebhookEndpoint(url: "https://hooks.example.test", secret: "")
        let missing = #expect(throws: WebhookError.self) {
            try noSecret.request(body: Self.body, idempotencyKey: "k", now: Self.signedAt)
        }
        #expect(missing?.code == .missingSecret)
        let invalid = #expect(throws: WebhookError.self) {
            try endpoint.request(body: Data("not json".utf8), idempotencyKey: "k", now: Self.signedAt)
        }
        #expect(invalid?.code == .invalidBody)
        let emptySecret = #expect(throws: WebhookError.self) {
            try WebhookSignature.verify(
                body: Self.body, timestamp: "1767225600", signature: Self.expectedSignature, secret: "",
                now: Self.signedAt)
        }
        #expect(emptySecret?.code == .missingSecret)
    }

    @Test func encodableBodiesAreSignedAsSent() throws {
        struct Event: Encodable {
            var event = "signup"
            var customer = "c-1"
        }
        let request = try endpoint.request(json: Event(), idempotencyKey: "k", now: Self.signedAt)
        #expect(String(decoding: request.body, as: UTF8.self) == #"{"customer":"c-1","event":"signup"}"#)
        try WebhookSignature.verify(request, secret: Self.secret, now: Self.signedAt)
    }

    /// The worker's payload is written by hand; it must be byte for byte what JSONEncoder (sorted keys, slashes as
    /// they are) writes, whatever the text: quotes, backslashes, controls, slashes, non-ASCII, absent identifiers.
    @Test(arguments: [
        WebhookPayload(key: "k-1", customer: "c-1", campaign: "verao", message: ["body": "Olá", "title": "x"]),
        WebhookPayload(key: "k\"2\\", customer: nil, campaign: "a/b", message: [:]),
        WebhookPayload(
            key: "", customer: "\u{1}\t\n\r\u{8}\u{C}\u{1F}", campaign: nil, message: ["é": "☀️ </script>"]),
        WebhookPayload(key: "k", customer: nil, campaign: nil, message: ["b": "1", "a": "2", "B": "3", "ab": "4"]),
    ])
    func payloadIsWhatJSONEncoderWrites(payload: WebhookPayload) throws {
        let endpoint = WebhookEndpoint(url: "https://hooks.example/in", secret: Self.secret)
        let request = try endpoint.request(json: payload, idempotencyKey: "k", now: Self.signedAt)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(request.body == (try encoder.encode(payload)))
        try WebhookSignature.verify(request, secret: Self.secret, now: Self.signedAt)
    }

    /// The endpoint keys HMAC once; changing its secret must re-key it, and equality is about the configuration.
    @Test func changingTheSecretSignsWithTheNewOne() throws {
        var endpoint = WebhookEndpoint(url: "https://hooks.example/in", secret: "old-secret-0123456789")
        endpoint.secret = Self.secret
        let request = try endpoint.request(body: Self.body, idempotencyKey: "k", now: Self.signedAt)
        try WebhookSignature.verify(request, secret: Self.secret, now: Self.signedAt)
        #expect(throws: WebhookError.self) {
            try WebhookSignature.verify(request, secret: "old-secret-0123456789", now: Self.signedAt)
        }
        #expect(endpoint == WebhookEndpoint(url: "https://hooks.example/in", secret: Self.secret))
        #expect(Set([endpoint, WebhookEndpoint(url: "https://hooks.example/in", secret: Self.secret)]).count == 1)
    }
}
