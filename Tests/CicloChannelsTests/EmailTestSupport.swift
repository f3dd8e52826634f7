import CicloChannels
import CicloTestSupport
import Foundation

/// A typical campaign email; tests change the one thing they are about.
func sampleMessage(
    subject: String = "Your July picks", html: String = "<p>Hello <b>Maria</b>,</p><p>New arrivals.</p>",
    text: String? = nil, idempotencyKey: String = "campaign-42:customer-1001:2025-07-01",
    unsubscribe: ListUnsubscribe? = ListUnsubscribe(
        url: "https://ciclo.example/u/7f3a?c=42", mailto: "mailto:unsubscribe@ciclo.example?subject=unsubscribe"),
    headers: [EmailHeader] = [EmailHeader("X-Campaign", "summer-2025")]
) throws -> EmailMessage {
    EmailMessage(
        from: try EmailAddress("Ciclo Store <news@ciclo.example>"),
        replyTo: try EmailAddress("care@ciclo.example"),
        to: [try EmailAddress("Maria Silva <maria.silva@example.com>")],
        subject: subject, html: html, text: text, idempotencyKey: idempotencyKey,
        date: Date(timeIntervalSince1970: 1_751_362_200),  // Tue, 01 Jul 2025 09:30:00 UTC
        unsubscribe: unsubscribe, headers: headers)
}

/// Renders with the test deployment's Message-ID domain.
func render(_ message: EmailMessage) throws -> EmailEnvelope {
    try EmailRenderer(configuration: .init(messageIDDomain: "mail.ciclo.example")).render(message)
}

/// Renders and parses in one step.
func renderAndParse(_ message: EmailMessage) throws -> (EmailEnvelope, ParsedEmail) {
    let envelope = try render(message)
    return (envelope, try PythonEmail.parse(envelope.message))
}

extension EmailEnvelope {
    /// The raw message as text (it is 7-bit ASCII).
    var raw: String { String(decoding: message, as: UTF8.self) }
    /// The raw header section, folds included.
    var rawHeaders: String { raw.components(separatedBy: "\r\n\r\n")[0] }
}
