import CicloImport
import Crypto
import Foundation
import Hummingbird
import Logging

/// `POST /events`: one event (a JSON object) or a batch (an array), in the shape of `ciclo events import`'s lines,
/// behind a bearer token. Checked and stored by CicloImport's own rules and statements; a batch with one bad item
/// is refused whole (400 naming the item) and nothing of it is stored.
struct EventEndpoints: Sendable {
    let configuration: ReporterConfiguration
    let pool: ConnectionPool
    let logger: Logger

    static let maxBody = 8 << 20

    struct Answer: Encodable {
        var received: Int
        var stored: Int
        var duplicates: Int
    }

    func register(on router: Router<BasicRequestContext>) {
        router.post("/events") { request, _ in try await receive(request) }
    }

    func receive(_ request: Request) async throws -> Response {
        guard let expected = configuration.eventsToken else {
            return Replies.error(.serviceUnavailable, "Event ingestion is off: the reporter has no CICLO_EVENTS_TOKEN.")
        }
        guard let given = Self.bearer(request.headers[.authorization]), Self.same(given, expected) else {
            var response = Replies.error(.unauthorized, "A valid bearer token is required (Authorization: Bearer ...).")
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        let body = Data(try await request.body.collect(upTo: Self.maxBody).readableBytesView)
        do {
            let batch = try EventBatch.parse(body)
            let stored = try await pool.withConnection { conn in try await EventBatch.store(batch, on: conn) }
            return Replies.json(.ok, Answer(received: batch.count, stored: stored, duplicates: batch.count - stored))
        } catch let rejection as EventBatch.Rejection {
            return Replies.error(.badRequest, rejection.description)
        }
    }

    static func bearer(_ header: String?) -> String? {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return nil }
        return String(header.dropFirst(7)).trimmingWhitespace
    }

    /// Compares in time independent of where the two differ: both sides are hashed first, so lengths leak nothing.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = SHA256.hash(data: Data(a.utf8)), y = SHA256.hash(data: Data(b.utf8))
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
