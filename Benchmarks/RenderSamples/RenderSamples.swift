import CicloChannels
import Foundation

/// One compiled template per channel and a function that renders message `i` and returns its size in bytes.
/// Sendable, as the worker's compiled templates are: every core may render from one instance at once.
public struct RenderSamples: Sendable {
    public typealias Render = @Sendable (Int) throws -> Int
    public let renderers: [(String, Render)]
    /// The email rendered the way it was before the compiled-template path (the parts as strings, an
    /// `EmailMessage`, `EmailRenderer.render(_:)`), for `make profile-render CHANNEL=email-message` to compare with.
    public let references: [(String, Render)]

    public init() {
        let variables = [
            TemplateVariable("customer.first_name", default: "cliente"), TemplateVariable("offer_code"),
            TemplateVariable("send.unsubscribe_url"), TemplateVariable("campaign.name", default: ""),
        ]
        /// An email of 20 paragraphs and an unsubscribe link, in the words given.
        @Sendable func emailTemplate(
            _ name: String, subject: String, paragraph: String, unsubscribe: String
        ) -> MessageTemplate {
            let html = String(repeating: "<p>" + paragraph + "</p>\n", count: 20)
                + "<p><a href=\"{{send.unsubscribe_url}}\">" + unsubscribe + "</a></p>"
            return try! MessageTemplate(
                name: name, parts: ["subject": (.text, subject), "html": (.html, html)], variables: variables)
        }
        let email = emailTemplate(
            "bench/email", subject: "{{customer.first_name}}, a sua oferta de verão: {{offer_code}} ☀️",
            paragraph: "Olá {{customer.first_name}}, aproveite <b>{{offer_code}}</b> em todas as lojas. "
                + "Até 50% de desconto!",
            unsubscribe: "Cancelar subscrição")
        // Mostly Greek: base64 bodies, for `make profile-render CHANNEL=email-greek`.
        let greek = emailTemplate(
            "bench/email-greek", subject: "{{customer.first_name}}, η καλοκαιρινή σας προσφορά: {{offer_code}}",
            paragraph: "Γεια σας {{customer.first_name}}, χρησιμοποιήστε τον κωδικό <b>{{offer_code}}</b> σε όλα τα "
                + "καταστήματα. Έως 50% έκπτωση!",
            unsubscribe: "Διαγραφή")
        let sms = try! MessageTemplate(
            name: "bench/sms", parts: ["body": (.text, "Olá {{customer.first_name}}! Código {{offer_code}}: até 50% de desconto. Sair: {{send.unsubscribe_url}}")],
            variables: variables)
        let push = try! MessageTemplate(
            name: "bench/push", parts: ["title": (.text, "{{customer.first_name}}, oferta!"), "body": (.text, "Use {{offer_code}} hoje")],
            variables: Array(variables.prefix(2)))  // no unsubscribe link, as in the example push campaign
        let renderer = EmailRenderer(configuration: .init(messageIDDomain: "bench.example"))
        let from = try! EmailAddress("Ciclo Loja <ofertas@bench.example>")
        let gateway = SMSGateway(url: "http://127.0.0.1:9/sms")
        let pushGateway = PushGateway(url: "http://127.0.0.1:9/push")
        let webhook = WebhookEndpoint(url: "http://127.0.0.1:9/hook", secret: "bench-secret-0123456789")
        let tokenKey = KeyedHMAC(secret: "bench-token-secret-0123456789")
        /// The customer's and campaign's values, and the send's signed unsubscribe links where the worker signs
        /// them (`ChannelHandler.handle`: for every email, and for other channels whose template uses them).
        @Sendable func values(_ i: Int, _ channel: String, _ template: MessageTemplate) -> [String: String] {
            var values = ["customer.first_name": "Ana \(i)", "offer_code": "VERAO\(i)"]
            guard UnsubscribeLinks.needed(channel: channel, template: template) else { return values }
            links(i, channel).add(to: &values)
            return values
        }
        @Sendable func links(_ i: Int, _ channel: String) -> UnsubscribeLinks {
            UnsubscribeLinks(
                baseURL: "https://ciclo.example", mailbox: "unsubscribe@bench.example", key: tokenKey,
                idempotencyKey: "bench-\(i)", customer: Int64(i), channel: channel)
        }
        let sender = EmailSender(
            from: from, headers: [EmailHeader("X-Ciclo-Campaign", "verao-2026")],
            unsubscribeMailbox: "unsubscribe@bench.example", configuration: renderer.configuration)
        let tracking = EmailTracking(baseURL: "https://ciclo.example", key: tokenKey)
        @Sendable func renderEmail(_ i: Int, tracked: Bool, template email: MessageTemplate = email) throws -> Int {
            // As the worker does: an email's links are always signed, and their signature gives the pixel's token.
            let sendLinks = links(i, "email")
            var emailValues = ["customer.first_name": "Ana \(i)", "offer_code": "VERAO\(i)"]
            sendLinks.add(to: &emailValues)
            let envelope = try renderer.render(
                email, values: emailValues, sender: sender, to: [try EmailAddress("ana\(i)@example.com")],
                idempotencyKey: "bench-\(i)", date: Date(),
                unsubscribe: ListUnsubscribe(
                    url: emailValues["send.unsubscribe_url"], mailto: emailValues["send.unsubscribe_mailto"]),
                tracking: tracked ? tracking : nil, customer: Int64(i), openToken: sendLinks.openToken)
            return envelope.message.count
        }
        @Sendable func renderMessage(_ i: Int, tracked: Bool) throws -> Int {
            let emailValues = values(i, "email", email)
            let parts = try email.render(emailValues, derivingTextFromHTML: true).get()
            let html = tracked ? tracking.apply(html: parts["html"]!, key: "bench-\(i)", customer: Int64(i)) : parts["html"]!
            let message = EmailMessage(
                from: from, to: [try EmailAddress("ana\(i)@example.com")], subject: parts["subject"]!, html: html,
                text: parts["text"], idempotencyKey: "bench-\(i)", date: Date(),
                unsubscribe: ListUnsubscribe(
                    url: emailValues["send.unsubscribe_url"], mailto: emailValues["send.unsubscribe_mailto"]),
                headers: [EmailHeader("X-Ciclo-Campaign", "verao-2026")])
            return try renderer.render(message).message.count
        }
        references = [
            ("email-message", { i in try renderMessage(i, tracked: true) }),
            ("email-message-untracked", { i in try renderMessage(i, tracked: false) }),
            ("email-greek", { i in try renderEmail(i, tracked: true, template: greek) }),
        ]
        renderers = [
            ("email", { i in
                // As the worker does (ChannelHandler.sendEmail): from the compiled template, with the sender's
                // headers prepared once per campaign, both unsubscribe links and click and open tracking (on by
                // default).
                try renderEmail(i, tracked: true)
            }),
            ("email-untracked", { i in
                // The same with CICLO_EMAIL_TRACKING=off.
                try renderEmail(i, tracked: false)
            }),
            ("sms", { i in
                let parts = try sms.render(values(i, "sms", sms)).get()
                let phone = try PhoneNumber("+351912345678")
                guard case .ready(let message) = SMSMessage.compose(text: parts["body"]!, to: phone, from: "Ciclo", policy: SMSPolicy())
                else { throw SampleError("sms did not compose") }
                return gateway.request(for: message, idempotencyKey: "bench-\(i)").body.count
            }),
            ("push", { i in
                let parts = try push.render(values(i, "push", push)).get()
                let notification = PushNotification(title: parts["title"]!, body: parts["body"]!)
                return try pushGateway.request(for: notification, deviceToken: "token-\(i)", idempotencyKey: "bench-\(i)").body.count
            }),
            ("webhook", { i in
                // The worker's body: the send's key, the customer's and campaign's identifiers, the rendered parts.
                let parts = try sms.render(values(i, "webhook", sms)).get()
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
