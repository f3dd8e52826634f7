import CicloChannels
import Foundation

/// One compiled template per channel and a function that renders message `i` and returns its size in bytes.
public struct RenderSamples {
    public let renderers: [(String, (Int) throws -> Int)]

    public init() {
        let variables = [
            TemplateVariable("customer.first_name", default: "cliente"), TemplateVariable("offer_code"),
            TemplateVariable("send.unsubscribe_url"), TemplateVariable("campaign.name", default: ""),
        ]
        let email = try! MessageTemplate(
            name: "bench/email", parts: [
                "subject": (.text, "{{customer.first_name}}, a sua oferta de verão: {{offer_code}} ☀️"),
                "html": (.html, String(repeating: "<p>Olá {{customer.first_name}}, aproveite <b>{{offer_code}}</b> em todas as lojas. Até 50% de desconto!</p>\n", count: 20)
                    + "<p><a href=\"{{send.unsubscribe_url}}\">Cancelar subscrição</a></p>"),
            ], variables: variables)
        let sms = try! MessageTemplate(
            name: "bench/sms", parts: ["body": (.text, "Olá {{customer.first_name}}! Código {{offer_code}}: até 50% de desconto. Sair: {{send.unsubscribe_url}}")],
            variables: variables)
        let push = try! MessageTemplate(
            name: "bench/push", parts: ["title": (.text, "{{customer.first_name}}, oferta!"), "body": (.text, "Use {{offer_code}} hoje")],
            variables: variables)
        let renderer = EmailRenderer(configuration: .init(messageIDDomain: "bench.example"))
        let from = try! EmailAddress("Ciclo Loja <ofertas@bench.example>")
        let gateway = SMSGateway(url: "http://127.0.0.1:9/sms")
        let pushGateway = PushGateway(url: "http://127.0.0.1:9/push")
        let webhook = WebhookEndpoint(url: "http://127.0.0.1:9/hook", secret: "bench-secret-0123456789")
        func values(_ i: Int) -> [String: String] {
            ["customer.first_name": "Ana \(i)", "offer_code": "VERAO\(i)", "send.unsubscribe_url": "https://ciclo.example/u/tok\(i)"]
        }
        renderers = [
            ("email", { i in
                // As the worker does: the text part from the template's derived text when the values allow it.
                let parts = try email.render(values(i), derivingTextFromHTML: true).get()
                // As the worker builds it: the configured From parsed once, both unsubscribe links, the campaign
                // header.
                let message = EmailMessage(
                    from: from, to: [try EmailAddress("ana\(i)@example.com")], subject: parts["subject"]!,
                    html: parts["html"]!, text: parts["text"], idempotencyKey: "bench-\(i)", date: Date(),
                    unsubscribe: ListUnsubscribe(
                        url: "https://ciclo.example/u/tok\(i)", mailto: "mailto:unsubscribe@bench.example?subject=unsubscribe%20tok\(i)"),
                    headers: [EmailHeader("X-Ciclo-Campaign", "verao-2026")])
                return try renderer.render(message).message.count
            }),
            ("sms", { i in
                let parts = try sms.render(values(i)).get()
                let phone = try PhoneNumber("+351912345678")
                guard case .ready(let message) = SMSMessage.compose(text: parts["body"]!, to: phone, from: "Ciclo", policy: SMSPolicy())
                else { throw SampleError("sms did not compose") }
                return gateway.request(for: message, idempotencyKey: "bench-\(i)").body.count
            }),
            ("push", { i in
                let parts = try push.render(values(i)).get()
                let notification = PushNotification(title: parts["title"]!, body: parts["body"]!)
                return try pushGateway.request(for: notification, deviceToken: "token-\(i)", idempotencyKey: "bench-\(i)").body.count
            }),
            ("webhook", { i in
                // The worker's body: the send's key, the customer's and campaign's identifiers, the rendered parts.
                let parts = try sms.render(values(i)).get()
                let payload = WebhookPayload(key: "bench-\(i)", customer: "cust-\(i)", campaign: "verao-2026", message: parts)
                return try webhook.request(json: payload, idempotencyKey: "bench-\(i)", now: Date()).body.count
            }),
        ]
    }
}

/// A sample that did not render as it should.
struct SampleError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
