import CicloTestSupport
import Foundation
import PropertyBased
import Testing

extension ReliabilityTests.BadInput {
    /// One request: a method, an endpoint with a fuzzed part, headers that get it past authentication or not, a body.
    struct FuzzRequest: Sendable, CustomStringConvertible {
        var method: String
        var path: String
        var headers: [String: String]
        var body: Data
        var description: String {
            "\(method) \(path.prefix(200)) headers \(headers.keys.sorted()) "
                + "body \(String(decoding: body.prefix(300), as: UTF8.self))"
        }
    }

    static let validEvent =
        #"{"customer": "base-1", "kind": "purchase", "time": "2026-03-01T09:30:00Z", "payload": {"amount": 5}}"#
    static let validWebhook =
        #"{"id": "e-1", "type": "delivered", "idempotency_key": "k-1", "occurred_at": "2026-03-01T09:30:00Z"}"#

    static let requestMaterial = zip(
        Gen<Int>.int(in: 0...10_000).array(of: 6), Hostile.piece(FuzzInputs.words).array(of: 4),
        Hostile.mutation(of: validEvent, words: FuzzInputs.words),
        Hostile.mutation(of: validWebhook, words: FuzzInputs.words)
    ).eraseToAny()

    /// Builds the request; `sign` is applied to webhook bodies that should pass the signature check.
    static func request(
        _ ints: [Int], _ pieces: [String], _ event: String, _ webhook: String,
        reporter: ReporterProcess
    ) -> FuzzRequest {
        let part = pieces[0] + pieces[1]
        let encoded = ints[5] % 5 == 0 ? part.replacingOccurrences(of: " ", with: "+") : ReporterProcess.segment(part)
        let method = ["GET", "POST", "HEAD", "PUT", "DELETE", "PATCH"][ints[0] % 6]
        var headers: [String: String] = [:]
        var body = Data((pieces[2] + pieces[3]).utf8)
        let path: String
        switch ints[1] % 9 {
        case 0: path = "/o/\(encoded)"
        case 1: path = "/c/\(encoded)"
        case 2:
            path = "/u/\(encoded)"
            headers["Content-Type"] =
                ints[2] % 2 == 0 ? "application/x-www-form-urlencoded" : "multipart/form-data; boundary=\(pieces[1])"
            body = Data("List-Unsubscribe=One-Click".utf8)
        case 3:
            path = "/events"
            headers["Authorization"] = ints[2] % 4 == 0 ? "Bearer \(part)" : "Bearer \(reporter.eventsToken)"
            body = Data((ints[3] % 2 == 0 ? "[\(event)]" : event).utf8)
        case 4:
            path = ints[2] % 5 == 0 ? "/webhooks/\(encoded)" : "/webhooks/esp"
            body = Data((ints[3] % 2 == 0 ? "[\(webhook)]" : webhook).utf8)
            headers =
                ints[4] % 4 == 0
                ? ["X-Ciclo-Timestamp": part, "X-Ciclo-Signature": "sha256=\(part)"] : reporter.signed(body)
        case 5: path = "/?from=\(encoded)&to=\(ReporterProcess.segment(pieces[2]))"
        case 6: path = "/campaigns/\(encoded)?from=2026-01-01&to=\(ReporterProcess.segment(pieces[3]))"
        case 7: path = "/stages/\(encoded)"
        default:
            path = ["/healthz", "/metrics", "/\(encoded)", "//\(encoded)/..", "/o/", "/c/%", "/u/%ZZ"][ints[2] % 7]
        }
        if ints[4] % 7 == 0 { headers["Content-Type"] = part }
        return FuzzRequest(method: method, path: path, headers: headers, body: body)
    }

    @Test("the reporter's endpoints: no 5xx, no crash, and a refused request stores nothing")
    func httpEndpoints() async throws {
        let count = try Self.count() * 5
        var tried = 0
        var corrupted = 0
        var statuses: [Int: Int] = [:]
        try await AttackFixture.with { f in
            let reporter = try await ReporterProcess.start(url: f.db.url)
            defer { reporter.run.stop() }
            await propertyCheck(count: count, input: Self.requestMaterial) { material in
                let (ints, pieces, event, webhook) = material
                let request = Self.request(ints, pieces, event, webhook, reporter: reporter)
                do {
                    tried += 1
                    let before = try await f.counts()
                    let reply = try await reporter.send(
                        request.method, request.path, headers: request.headers, body: request.body)
                    statuses[reply.status, default: 0] += 1
                    #expect(reply.status < 500, "\(reply.status) for \(request): \(reply.text.prefix(300))")
                    if reply.status >= 400 {
                        let changed = AttackFixture.changes(before, try await f.counts())
                        #expect(changed.isEmpty, "\(reply.status) for \(request) but stored \(changed)")
                        if !changed.isEmpty { corrupted += 1 }
                        // The endpoints' own refusals say why (a router's 404 or 405 may be bare).
                        // What HTTP's grammar forbids (control characters anywhere, raw non-ASCII in the request
                        // target) is refused by the HTTP parser itself, before any endpoint, with a bare 400.
                        let malformed =
                            request.path.unicodeScalars.contains { $0.value > 0x7e }
                            || ([request.path] + request.headers.values).contains { value in
                                value.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }
                            }
                        if request.method != "HEAD" && !malformed && [400, 401, 413].contains(reply.status) {
                            #expect(!reply.body.isEmpty, "\(reply.status) with no reason for \(request)")
                        }
                    }
                } catch {
                    Issue.record("\(request): \(error)")
                }
                #expect(
                    reporter.run.process.isRunning,
                    "the reporter died on \(request): \(reporter.run.stderr.suffix(1000))")
            }
        }
        let spread = statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        try Reliability.record(
            .init(
                suite: "bad input http", load: "reporter endpoints", faults: 0, inputs: tried, lost: 0,
                corrupted: corrupted, notes: ["statuses: \(spread)"]))
    }
}
