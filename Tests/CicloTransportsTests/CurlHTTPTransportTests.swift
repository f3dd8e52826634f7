import CicloChannels
import CicloTestSupport
import Foundation
import Testing

@testable import CicloTransports

/// CurlHTTPTransport against a real HTTP server (Python's http.server) started by each test.
@Suite("HTTP transport")
struct CurlHTTPTransportTests {
    static func transport(timeout: Duration = .seconds(10)) -> CurlHTTPTransport {
        CurlHTTPTransport(configuration: .init(connectTimeout: .seconds(2), timeout: timeout, maximumConnections: 1))
    }

    static func message(
        _ server: HelperServer, _ path: String, method: String = "POST", headers: [HTTPHeader] = [],
        body: String = #"{"to":"+447700900123","text":"Hi Ada"}"#, key: String = "send-1"
    ) -> HTTPMessage {
        HTTPMessage(
            method: method, url: "http://127.0.0.1:\(server.port)\(path)", headers: headers, body: Data(body.utf8),
            idempotencyKey: key)
    }

    @Test("body and headers arrive intact, with Idempotency-Key, over one kept-alive connection")
    func deliversIntact() async throws {
        let server = try await HelperServer.start(httpServerScript)
        defer { server.stopAndClean() }
        let http = Self.transport()
        let signature = "t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"
        let headers = [
            HTTPHeader("Content-Type", "application/json"), HTTPHeader("Ciclo-Signature", signature),
            HTTPHeader("X-Empty", ""),
        ]

        let first = await http.send(Self.message(server, "/ok", headers: headers, key: "send-1"))
        #expect(first == .delivered(providerMessageID: "msg-1"))
        // The message's own Idempotency-Key header is kept, not doubled; an empty body is sent as such.
        let own = [HTTPHeader("Idempotency-Key", "own-key")]
        let second = await http.send(
            Self.message(server, "/ok-header", method: "PUT", headers: own, body: "", key: "x"))
        #expect(second == .delivered(providerMessageID: "hdr-2"))

        let requests = try server.records(ReceivedRequest.self, in: "requests")
        try #require(requests.count == 2)
        #expect(requests[0].method == "POST")
        #expect(requests[0].path == "/ok")
        #expect(requests[0].body == Data(#"{"to":"+447700900123","text":"Hi Ada"}"#.utf8))
        #expect(requests[0].header("Idempotency-Key") == ["send-1"])
        #expect(requests[0].header("Ciclo-Signature") == [signature])
        #expect(requests[0].header("Content-Type") == ["application/json"])
        #expect(requests[0].header("X-Empty") == [""])
        #expect(requests[0].header("Expect").isEmpty)
        #expect(requests[1].method == "PUT")
        #expect(requests[1].body.isEmpty)
        #expect(requests[1].header("Idempotency-Key") == ["own-key"])
        // No form Content-Type invented by libcurl for a body that did not say what it is.
        #expect(requests[1].header("Content-Type").isEmpty)
        #expect(requests[0].clientPort == requests[1].clientPort)
    }

    @Test("429 is transient with Retry-After in seconds or as an HTTP date; 500 is transient")
    func transientStatuses() async throws {
        let server = try await HelperServer.start(httpServerScript)
        defer { server.stopAndClean() }
        let http = Self.transport()

        let throttled = await http.send(Self.message(server, "/throttle"))
        #expect(
            throttled
                == .throttled(message: "HTTP 429 from http://127.0.0.1:\(server.port): slow down", retryAfter: .seconds(7)))

        let dated = await http.send(Self.message(server, "/throttle-date"))
        guard case .throttled(_, let retryAfter?) = dated else {
            Issue.record("429 with a date should be a throttle with a delay: \(dated)")
            return
        }
        // The server says 30 s from its clock, in whole seconds; a loaded machine may take a few seconds more to
        // read it. Anything near 30, far from the 7 of the delta form, shows the date was parsed.
        #expect(retryAfter > .seconds(20) && retryAfter <= .seconds(31))

        let boom = await http.send(Self.message(server, "/boom"))
        guard case .failed(let message, false, nil) = boom else {
            Issue.record("500 should be transient: \(boom)")
            return
        }
        #expect(message.hasPrefix("HTTP 500 from http://127.0.0.1:\(server.port)"))
    }

    @Test("400 is permanent, with the status and the start of the body in the message")
    func permanentStatuses() async throws {
        let server = try await HelperServer.start(httpServerScript)
        defer { server.stopAndClean() }
        let bad = await Self.transport().send(Self.message(server, "/bad"))
        guard case .failed(let message, true, nil) = bad else {
            Issue.record("400 should be permanent: \(bad)")
            return
        }
        #expect(message.contains("HTTP 400"))
        #expect(message.contains(#""error": "invalid recipient""#))
        let missing = await Self.transport().send(Self.message(server, "/nowhere"))
        guard case .failed(let text, true, nil) = missing else {
            Issue.record("404 should be permanent: \(missing)")
            return
        }
        #expect(text.contains("HTTP 404"))
    }

    @Test("a slow server times out and a refused connection fails, both transient and bounded")
    func networkFailures() async throws {
        let server = try await HelperServer.start(httpServerScript)
        defer { server.stopAndClean() }
        // /slow answers after 5 s; the 1 s timeout ends the transfer first, as the message below says. (How soon is
        // a figure for a benchmark: under the whole suite's load 4.9 s was seen.)
        let slow = await Self.transport(timeout: .seconds(1)).send(Self.message(server, "/slow"))
        guard case .failed(let message, false, nil) = slow else {
            Issue.record("a timeout should be transient: \(slow)")
            return
        }
        #expect(message.contains("timed out"))

        let port = try await HelperServer.closedPort(using: httpServerScript)
        let refused = await Self.transport().send(
            HTTPMessage(url: "http://127.0.0.1:\(port)/ok", body: Data("{}".utf8), idempotencyKey: "k"))
        guard case .failed(_, false, nil) = refused else {
            Issue.record("a refused connection should be transient: \(refused)")
            return
        }
    }

    @Test("cancelling the task aborts a transfer in flight")
    func cancellation() async throws {
        let server = try await HelperServer.start(httpServerScript)
        defer { server.stopAndClean() }
        let http = Self.transport(timeout: .seconds(30))
        let message = Self.message(server, "/slow")
        let task = Task { await http.send(message) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let result = await task.value
        // /slow answers after 5 s with a 200: a "cancelled" failure shows the transfer was aborted, not waited out.
        // (How soon is a figure for a benchmark: under the whole suite's load it took up to 6.8 s.)
        #expect(
            result
                == .failed(
                    message: "HTTP request to http://127.0.0.1:\(server.port) failed: the send was cancelled",
                    permanent: false, retryAfter: nil))
    }

    @Test("a header or method that could inject text is refused before sending, permanently")
    func refusesInjection() async throws {
        let server = try await HelperServer.start(httpServerScript)
        defer { server.stopAndClean() }
        let http = Self.transport()
        let injected = [HTTPHeader("X-Note", "hi\r\nX-Admin: yes")]
        guard case .failed(_, true, nil) = await http.send(Self.message(server, "/ok", headers: injected)) else {
            Issue.record("a line break in a header should be permanent")
            return
        }
        guard case .failed(_, true, nil) = await http.send(Self.message(server, "/ok", method: "POST /x HTTP/1.1"))
        else {
            Issue.record("a malformed method should be permanent")
            return
        }
        #expect(try server.records(ReceivedRequest.self, in: "requests").isEmpty)
    }

    @Test("Retry-After parses delta-seconds and the three HTTP date forms")
    func retryAfterParsing() {
        let now = Date(timeIntervalSince1970: 784_111_767)  // Sun, 06 Nov 1994 08:49:27 GMT
        #expect(HTTPResponseClassifier.retryAfter("7", now: now) == .seconds(7))
        #expect(HTTPResponseClassifier.retryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == .seconds(10))
        #expect(HTTPResponseClassifier.retryAfter("Sunday, 06-Nov-94 08:49:47 GMT", now: now) == .seconds(20))
        #expect(HTTPResponseClassifier.retryAfter("Sun Nov  6 08:49:57 1994", now: now) == .seconds(30))
        #expect(HTTPResponseClassifier.retryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now: now) == .zero)
        #expect(HTTPResponseClassifier.retryAfter("soon", now: now) == nil)
        #expect(HTTPResponseClassifier.retryAfter("-3", now: now) == nil)
    }

    @Test("the provider message id comes from a nested JSON field, else from the header")
    func messageIDs() {
        let classifier = HTTPResponseClassifier(messageIDJSONField: "data.id", messageIDHeader: "X-Message-Id")
        let nested = Data(#"{"data":{"id":42}}"#.utf8)
        #expect(classifier.messageID(headers: [], body: nested) == "42")
        let header = [HTTPHeader("x-message-id", "h-1")]
        #expect(classifier.messageID(headers: header, body: Data(#"{"id":"top"}"#.utf8)) == "h-1")
        #expect(classifier.messageID(headers: [], body: Data("not json".utf8)) == nil)
    }
}
