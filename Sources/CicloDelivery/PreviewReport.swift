import CicloChannels
import CicloQueue
import Foundation

/// `ciclo preview`'s text: a line on the send, a line on why a worker would not send it (when it would not), then
/// the message exactly as its transport would have had it: an email's envelope and raw MIME message (headers and
/// both parts, as encoded), or an HTTP request's method, URL, headers and body (the SMS text with its encoding and
/// segment count, the push or webhook JSON).
public enum PreviewReport {
    public static func render(
        _ result: Preview.Result, campaign: String, customer: String, variants: [String]
    ) -> String {
        var lines = [
            "campaign \(campaign), customer \(customer), \(result.channel), variant \(result.variant)"
                + (variants.count > 1 ? " (of \(variants.joined(separator: ", ")))" : ""),
            "send key \(result.idempotencyKey): a preview's own; the Message-ID, boundary and link tokens come from it",
            "links and signatures use a throwaway secret: they look as sent, and the reporter refuses them",
        ]
        if let reason = result.blockedReason {
            lines.append(
                "not sent: a worker would stop at the send-time check (\(reason)); the message would have been:")
        }
        switch result.outcome {
        case .sent: break
        case .suppressed(let reason): lines.append("not sent: suppressed (\(reason))")
        case .cancelled(let reason): lines.append("not sent: cancelled (\(reason))")
        case .failed(let failure):
            lines.append("not sent: \(failure.permanent ? "fails" : "would be retried"): \(failure.message)")
        case .throttled(let message, _): lines.append("not sent: throttled: \(message)")
        }
        switch result.message {
        case .email(let envelope)?:
            lines.append("MAIL FROM:<\(envelope.from)>")
            lines += envelope.recipients.map { "RCPT TO:<\($0)>" }
            lines.append("")
            lines.append(String(decoding: envelope.message, as: UTF8.self))
        case .http(let request)?:
            if result.channel == "sms", let summary = smsSummary(request.body) { lines.append(summary) }
            lines.append("\(request.method) \(request.url)")
            lines += request.headers.map { "\($0.name): \($0.value)" }
            // The HTTP transport adds it when the message has none.
            if !request.headers.contains(where: { $0.name.lowercased() == "idempotency-key" }) {
                lines.append("Idempotency-Key: \(request.idempotencyKey)")
            }
            lines.append("")
            lines.append(String(decoding: request.body, as: UTF8.self))
        case nil: break
        }
        return lines.joined(separator: "\n")
    }

    /// "SMS: 2 segments, GSM-7, 170 characters" (characters as a reader counts them; the segments count the
    /// encoding's units), read back from the provider request's JSON.
    static func smsSummary(_ body: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            let segments = object["segments"] as? Int, let encoding = object["encoding"] as? String,
            let text = object["text"] as? String
        else { return nil }
        return "SMS: \(segments) segment\(segments == 1 ? "" : "s"), \(encoding), \(text.count) characters"
    }
}
