import CicloChannels
import CicloTestSupport
import Foundation
import Testing

/// `ciclo worker --transport live` delivering email to a real SMTP server (aiosmtpd), end to end: templates and
/// customers from the database, rendering, SMTP, outcomes recorded.
@Suite("Email delivery, end to end")
struct EmailDeliveryTests {
    /// The summer offer by email, with its template in Portuguese, Italian and English.
    static func emailCampaign(_ f: DeliveryFixture) async throws -> Int64 {
        let campaign = try await f.campaign("summer-email-\(UUID().uuidString.prefix(8))", channel: "email")
        let templates = [
            ("pt", "Olá {{customer.first_name}}, o seu código {{offer_code}}", "Use o código", "Cancelar"),
            ("it", "Ciao {{customer.first_name}}, il tuo codice {{offer_code}}", "Usa il codice", "Annulla"),
            ("en", "Hi {{customer.first_name}}, your code {{offer_code}}", "Use the code", "Unsubscribe"),
        ]
        for (locale, subject, use, leave) in templates {
            try await f.template(campaign: campaign, locale: locale, channel: "email", parts: [
                "subject": subject,
                "html": "<p>{{customer.first_name}}: \(use) <b>{{offer_code}}</b>.</p>"
                    + "<p><a href=\"{{send.unsubscribe_url}}\">\(leave)</a></p>",
                "text": "{{customer.first_name}}: \(use) {{offer_code}}.\n\(leave): {{send.unsubscribe_url}}\n",
            ])
        }
        return campaign
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    static func smtp(_ server: HelperServer) -> [String: String] {
        ["CICLO_SMTP_URL": "smtp://127.0.0.1:\(server.port)", "CICLO_SMTP_STARTTLS": "off"]
    }

    @Test("one message per customer, in the customer's language, with the signed one-click unsubscribe link")
    func deliversInEachLanguage() async throws {
        try await DeliveryFixture.with { f in
            let server = try await HelperServer.start(smtpServerScript)
            defer { server.stopAndClean() }
            let campaign = try await Self.emailCampaign(f)
            let campaignKey = try await f.conn.query("SELECT key FROM campaigns WHERE id = $1", [campaign])
                .scalar(String.self)
            let people: [(email: String, locale: String, firstName: String?, subject: String)] = [
                ("maria@example.pt", "pt", "Maria", "Olá Maria, o seu código VERAO25"),
                ("giulia@example.it", "it", "Giulia", "Ciao Giulia, il tuo codice VERAO25"),
                // Customer data is escaped in HTML, and only there.
                ("john@example.com", "en", "John & <Jo>", "Hi John & <Jo>, your code VERAO25"),
                // No pt-BR template: the language's (pt) is used.
                ("beatriz@example.com.br", "pt-BR", "Beatriz", "Olá Beatriz, o seu código VERAO25"),
                // No first name: the declared default stands in.
                ("rui@example.pt", "pt", nil, "Olá cliente, o seu código VERAO25"),
            ]
            var sends: [String: (key: String, customer: Int64, subject: String, name: String)] = [:]
            for person in people {
                let id = try await f.customer(
                    "ext-\(person.email)", email: person.email, locale: person.locale, firstName: person.firstName,
                    consents: ["email"])
                let key = try await f.enqueue(campaign: campaign, customer: id, channel: "email")
                sends[person.email] = (key, id, person.subject, person.firstName ?? "cliente")
            }

            let run = try await f.drain("live", environment: Self.smtp(server))
            #expect(run.status == 0, "stderr: \(run.stderr.suffix(2000))")

            let mail = try server.records(ReceivedMail.self, in: "messages")
            #expect(mail.count == people.count, "server stderr: \(server.stderr.suffix(1000))")
            #expect(mail.allSatisfy { $0.recipients.count == 1 })
            #expect(Set(mail.flatMap(\.recipients)) == Set(people.map(\.email)))
            for received in mail {
                let address = try #require(received.recipients.first)
                let send = try #require(sends[address])
                let parsed = try PythonEmail.parse(received.data)
                #expect(parsed.defects.isEmpty, "\(address): \(parsed.defects)")
                #expect(received.mailFrom == "ofertas@loja.example")
                let from = parsed.mailboxes("From").map { "\($0.name) <\($0.address)>" }
                #expect(from == ["Loja <ofertas@loja.example>"])
                #expect(parsed.mailboxes("To").map(\.address) == [address])
                #expect(parsed.header("Subject") == send.subject, "\(address)")
                #expect(parsed.part("text/plain")?.content.contains("\(send.name): ") == true, "\(address)")
                #expect(parsed.part("text/html")?.content.contains("<p>\(Self.escaped(send.name)): ") == true)
                #expect(parsed.part("text/html")?.content.contains("<b>VERAO25</b>") == true, "\(address)")
                #expect(parsed.header("X-Ciclo-Campaign") == campaignKey)
                // The Message-ID is derived from the send's key, so a retried send is recognisably the same message.
                let messageID = EmailRenderer.messageID(idempotencyKey: send.key, domain: "loja.example")
                #expect(parsed.header("Message-ID") == "<\(messageID)>", "\(address)")

                // RFC 8058 one-click: an https link to the reporter with a token signed for this send.
                let prefix = "<\(f.publicURL)/u/"
                let link = try #require(parsed.header("List-Unsubscribe"))
                #expect(link.hasPrefix(prefix) && link.hasSuffix(">"), "\(link)")
                let token = String(link.dropFirst(prefix.count).dropLast())
                let claims = try SignedToken.verify(token, purpose: "u", secret: f.tokenSecret)
                #expect(claims.key == send.key && claims.customer == send.customer && claims.channel == "email")
                #expect(parsed.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click")
                #expect(parsed.part("text/plain")?.content.contains("\(f.publicURL)/u/\(token)") == true)
                #expect(parsed.part("text/html")?.content.contains("href=\"\(f.publicURL)/u/\(token)\"") == true)

                let delivery = try await f.delivery(send.key)
                #expect(delivery?.outcome == "sent", "\(address)")
                #expect(delivery?.reason == nil && delivery?.variant == "A" && delivery?.attempts == 1)
                #expect(delivery?.providerMessageID?.isEmpty == false)
            }
            #expect(try await f.conn.query("SELECT count(*)::int8 FROM send_jobs").scalar(Int.self) == 0)
        }
    }

    @Test("no consent, a hard bounce and a missing variable: suppressed with their reasons, nothing reaches SMTP")
    func suppressedSendsSendNothing() async throws {
        try await DeliveryFixture.with { f in
            let server = try await HelperServer.start(smtpServerScript)
            defer { server.stopAndClean() }
            let campaign = try await Self.emailCampaign(f)
            let welcome = try await f.customer("ext-ok", email: "ok@example.pt", firstName: "Ana", consents: ["email"])
            let noConsent = try await f.customer("ext-nc", email: "nc@example.pt", consents: [])
            let bounced = try await f.customer("ext-hb", email: "hb@example.pt", consents: ["email"])
            try await f.suppress(bounced, channel: "email", reason: "hard_bounce")
            let lacking = try await f.customer("ext-mv", email: "mv@example.pt", consents: ["email"])

            let sent = try await f.enqueue(campaign: campaign, customer: welcome, channel: "email")
            let unwanted = try await f.enqueue(campaign: campaign, customer: noConsent, channel: "email")
            let bounce = try await f.enqueue(campaign: campaign, customer: bounced, channel: "email")
            // offer_code has no default and this send does not carry it.
            let incomplete = try await f.enqueue(
                campaign: campaign, customer: lacking, channel: "email", payload: #"{"variant": "A"}"#)
            let keys = [
                (unwanted, "no_consent"), (bounce, "suppressed_hard_bounce"), (incomplete, "render_failed"),
            ]

            let run = try await f.drain("live", environment: Self.smtp(server))
            #expect(run.status == 0, "stderr: \(run.stderr.suffix(2000))")

            let mail = try server.records(ReceivedMail.self, in: "messages")
            #expect(mail.map(\.recipients) == [["ok@example.pt"]])
            #expect(try await f.delivery(sent)?.outcome == "sent")
            for (key, reason) in keys {
                let delivery = try await f.delivery(key)
                #expect(delivery?.outcome == "suppressed", "\(reason)")
                #expect(delivery?.reason == reason)
                #expect(delivery?.variant == "A" && delivery?.providerMessageID == nil)
            }
        }
    }

    @Test("an invalid address fails the job at once, attempt 1, naming the problem but not the address")
    func invalidAddressFailsPermanently() async throws {
        try await DeliveryFixture.with { f in
            let server = try await HelperServer.start(smtpServerScript)
            defer { server.stopAndClean() }
            let campaign = try await Self.emailCampaign(f)
            let ana = try await f.customer("ext-ana", email: "ana@@example", firstName: "Ana", consents: ["email"])
            let key = try await f.enqueue(campaign: campaign, customer: ana, channel: "email")

            let run = try await f.drain("live", environment: Self.smtp(server))
            #expect(run.status == 0, "stderr: \(run.stderr.suffix(2000))")

            let job = try #require(try await f.queued(key))
            #expect(job.state == "failed")
            #expect(job.attempts == 1 && job.errorCount == 1)
            let error = job.lastError ?? ""
            #expect(error.contains("email address is invalid"), "\(error)")
            #expect(error.contains("not allowed before the @"), "\(error)")
            // Errors are shown to operators and kept for weeks: the customer's address stays out of them.
            #expect(!error.contains("ana@@example"), "\(error)")
            #expect(try await f.delivery(key) == nil)
            #expect(server.count(in: "messages") == 0 && server.count(in: "connections") == 0)
        }
    }
}
