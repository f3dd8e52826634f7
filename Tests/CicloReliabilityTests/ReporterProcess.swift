import CicloChannels
import CicloTestSupport
import Foundation

/// A real `ciclo reporter --port 0` on the fixture's database, with every secret set, so each endpoint gets as far as
/// its input lets it.
struct ReporterProcess {
    let run: CicloRun
    let port: Int
    let tokenSecret: String
    let eventsToken: String
    let providerSecret: String

    static func start(url: String) async throws -> ReporterProcess {
        let token = "reliability-token-secret-\(UUID().uuidString)"
        let events = "reliability-events-\(UUID().uuidString)"
        let provider = "reliability-esp-secret-\(UUID().uuidString)"
        let run = try CicloRun.start(
            ["reporter", "--port", "0", "--no-aggregate"], url: url,
            environment: [
                "CICLO_TOKEN_SECRET": token, "CICLO_EVENTS_TOKEN": events, "CICLO_PROVIDER_ESP_SECRET": provider,
                // info: the port is read from the `reporter listening` line.
                "CICLO_LOG_LEVEL": "info",
            ])
        return ReporterProcess(
            run: run, port: try await run.listeningPort(), tokenSecret: token, eventsToken: events,
            providerSecret: provider)
    }

    func send(_ method: String, _ path: String, headers: [String: String] = [:], body: Data = Data())
        async throws -> HTTPExchange.Reply
    {
        try await HTTPExchange.send(method, path, port: port, headers: headers, body: body, timeout: .seconds(30))
    }

    /// Headers that sign `body` for the provider `esp`, as a provider would.
    func signed(_ body: Data) -> [String: String] {
        let timestamp = Int64(Date().timeIntervalSince1970)
        return [
            "Content-Type": "application/json", "X-Ciclo-Timestamp": String(timestamp),
            "X-Ciclo-Signature": WebhookSignature.sign(body: body, timestamp: timestamp, secret: providerSecret),
        ]
    }

    /// A path segment as a client would send it: percent-encoded.
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "x"
    }
}
