import CicloChannels
import CicloTestSupport
import Foundation
import Testing

/// `ciclo worker --transport file` writing an outbox, and the worker refusing to start without its secret.
@Suite("File outbox and worker configuration")
struct OutboxAndConfigurationTests {
    /// A fresh outbox folder, removed after `body` whatever happens.
    static func withOutbox(_ body: (URL) async throws -> Void) async throws {
        let outbox = FileManager.default.temporaryDirectory.appendingPathComponent("ciclo-outbox-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: outbox) }
        try await body(outbox)
    }

    /// An email and an SMS campaign with Portuguese templates, a customer with both consents, one send on each;
    /// returns the two keys.
    static func seedEmailAndSMS(_ f: DeliveryFixture) async throws -> (email: String, sms: String) {
        let email = try await EmailDeliveryTests.emailCampaign(f)
        let sms = try await HTTPDeliveryTests.smsCampaign(f)
        let maria = try await f.customer(
            "ext-maria", email: "maria@example.pt", phone: "912 345 678", firstName: "Maria",
            consents: ["email", "sms"])
        return (try await f.enqueue(campaign: email, customer: maria, channel: "email"),
                try await f.enqueue(campaign: sms, customer: maria, channel: "sms"))
    }

    /// The JSON document the file transport writes for an HTTP request.
    struct OutboxRequest: Decodable {
        var method: String
        var url: String
        var idempotencyKey: String
        var headers: [[String]]
        var body: HTTPDeliveryTests.SMSBody
    }

    @Test("--transport file: one parsable .eml per email send under email/, the SMS request as JSON under sms/")
    func fileOutbox() async throws {
        try await DeliveryFixture.with { f in
            try await Self.withOutbox { outbox in
                let keys = try await Self.seedEmailAndSMS(f)
                // Never contacted: the file transport records the request it would POST there. (Without it the SMS
                // fails today; see fileOutboxWithoutSMSProvider.)
                let provider = "https://sms.provider.example/v1/messages"
                let run = try await f.drain(
                    "file", ["--outbox", outbox.path],
                    environment: ["CICLO_SMS_URL": provider, "CICLO_SMS_COUNTRY_CODE": "351"])
                #expect(run.status == 0, "stderr: \(run.stderr.suffix(2000))")

                let messageID = EmailRenderer.messageID(idempotencyKey: keys.email, domain: "loja.example")
                let emails = try FileManager.default.contentsOfDirectory(
                    atPath: outbox.appendingPathComponent("email").path)
                #expect(emails == ["\(messageID).eml"])
                let eml = try Data(contentsOf: outbox.appendingPathComponent("email/\(messageID).eml"))
                let parsed = try PythonEmail.parse(eml)
                #expect(parsed.defects.isEmpty, "\(parsed.defects)")
                #expect(parsed.header("Subject") == "Olá Maria, o seu código VERAO25")
                #expect(parsed.header("Message-ID") == "<\(messageID)>")
                #expect(parsed.header("List-Unsubscribe")?.hasPrefix("<\(f.publicURL)/u/") == true)

                let sms = try JSONDecoder().decode(
                    OutboxRequest.self, from: Data(contentsOf: outbox.appendingPathComponent("sms/\(keys.sms).json")))
                #expect(sms.method == "POST" && sms.url == provider && sms.idempotencyKey == keys.sms)
                #expect(sms.body.to == "+351912345678" && sms.body.segments == 1 && sms.body.encoding == "GSM-7")

                #expect(try await f.delivery(keys.email)?.providerMessageID == "email/\(messageID).eml")
                #expect(try await f.delivery(keys.sms)?.providerMessageID == "sms/\(keys.sms).json")
            }
        }
    }

    /// Runs the file worker with `environment` minus `unset`, and checks that `key` left the queue as sent with its
    /// file under `<outbox>/<channel>/`.
    static func expectWritten(
        _ f: DeliveryFixture, key: String, channel: String, environment: [String: String] = [:], unset: Set<String>
    ) async throws {
        try await withOutbox { outbox in
            let run = try await f.drain("file", ["--outbox", outbox.path], environment: environment, unset: unset)
            #expect(run.status == 0, "stderr: \(run.stderr.suffix(2000))")
            let job = try await f.queued(key)
            #expect(job == nil, "the \(channel) send is \(job?.state ?? "") after: \(job?.lastError ?? "")")
            #expect(try await f.delivery(key)?.outcome == "sent")
            let folder = outbox.appendingPathComponent(channel).path
            let files = try? FileManager.default.contentsOfDirectory(atPath: folder)
            #expect(files?.count == 1, "\(channel)/ holds \(files ?? [])")
        }
    }

    @Test("--transport file without CICLO_PUBLIC_URL: the email lands in the outbox (the default link base works)")
    func fileOutboxWithDefaultLinkBase() async throws {
        try await DeliveryFixture.with { f in
            let keys = try await Self.seedEmailAndSMS(f)
            try await Self.expectWritten(f, key: keys.email, channel: "email", unset: ["CICLO_PUBLIC_URL"])
        }
    }

    @Test("--transport file without CICLO_SMS_URL: the SMS lands in the outbox (no provider is contacted)")
    func fileOutboxWithoutSMSProvider() async throws {
        try await DeliveryFixture.with { f in
            let keys = try await Self.seedEmailAndSMS(f)
            try await Self.expectWritten(
                f, key: keys.sms, channel: "sms", environment: ["CICLO_SMS_COUNTRY_CODE": "351"], unset: [])
        }
    }

    @Test("without CICLO_TOKEN_SECRET (or with one under 16 bytes) the worker exits 78 with one sentence naming it")
    func missingTokenSecret() async throws {
        try await DeliveryFixture.with { f in
            let email = try await EmailDeliveryTests.emailCampaign(f)
            let maria = try await f.customer("ext-maria", email: "maria@example.pt", consents: ["email"])
            let key = try await f.enqueue(campaign: email, customer: maria, channel: "email")
            let smtp = ["CICLO_SMTP_URL": "smtp://127.0.0.1:9", "CICLO_SMTP_STARTTLS": "off"]
            for secret in ["", "short-secret"] {
                let run = try await f.drain("live", environment: smtp.merging(["CICLO_TOKEN_SECRET": secret]) { $1 })
                #expect(run.status == 78, "secret \(secret.debugDescription), stderr: \(run.stderr.suffix(2000))")
                let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("ciclo: error: ") }
                #expect(errors.count == 1, "\(run.stderr.suffix(2000))")
                let sentence = errors.first.map { $0.dropFirst("ciclo: error: ".count) } ?? ""
                #expect(sentence.contains("CICLO_TOKEN_SECRET"), "\(sentence)")
                #expect(sentence.hasSuffix(".") && !sentence.dropLast().contains(". "), "one sentence: \(sentence)")
            }
            // The worker stopped before claiming: the send waits, untouched.
            let job = try await f.queued(key)
            #expect(job?.state == "due" && job?.attempts == 0)
        }
    }
}
