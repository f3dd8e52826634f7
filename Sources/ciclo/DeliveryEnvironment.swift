import CicloChannels
import CicloDelivery
import CicloTransports
import Foundation
import Logging

/// Delivery settings from the environment; secrets come from variables or `_FILE` variables, never from argv.
///
///   CICLO_PUBLIC_URL              base of the reporter's links (default http://127.0.0.1:8080)
///   CICLO_EMAIL_TRACKING          on (default): click-tracked links and an open pixel in email HTML; off
///   CICLO_TOKEN_SECRET[_FILE]     HMAC secret that signs link tokens (required)
///   CICLO_EMAIL_FROM              default From (default Ciclo <noreply@localhost>)
///   CICLO_UNSUBSCRIBE_MAILBOX     mailbox for mailto unsubscribes
///   CICLO_SMTP_URL                smtp://host:port or smtps://host:port (live transport)
///   CICLO_SMTP_STARTTLS           off, opportunistic or required (default required)
///   CICLO_SMTP_USERNAME, CICLO_SMTP_PASSWORD[_FILE]
///   CICLO_SMS_URL, CICLO_PUSH_URL provider endpoints for SMS and push (JSON POST)
///   CICLO_SMS_SENDER, CICLO_SMS_COUNTRY_CODE
///   CICLO_WEBHOOK_URL, CICLO_WEBHOOK_SECRET[_FILE]
extension CicloEnvironment {
    func secret(_ name: String) throws -> String? {
        if let path = values["\(name)_FILE"], !path.isEmpty {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw UserError.configuration("\(name)_FILE names \(path), which cannot be read")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return values[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The link-signing secret the worker signs with and the reporter verifies with.
    func tokenSecret() throws -> String {
        guard let tokenSecret = try secret("CICLO_TOKEN_SECRET"), tokenSecret.utf8.count >= 16 else {
            throw UserError.configuration(
                "CICLO_TOKEN_SECRET (or CICLO_TOKEN_SECRET_FILE) must hold a secret of at least 16 bytes to sign links")
        }
        return tokenSecret
    }

    func deliveryConfiguration() throws -> DeliveryConfiguration {
        let tokenSecret = try tokenSecret()
        let webhook = try values["CICLO_WEBHOOK_URL"].map { url in
            guard let secret = try secret("CICLO_WEBHOOK_SECRET") else {
                throw UserError.configuration("CICLO_WEBHOOK_URL is set but CICLO_WEBHOOK_SECRET is not")
            }
            return WebhookEndpoint(url: url, secret: secret)
        }
        return DeliveryConfiguration(
            publicBaseURL: values["CICLO_PUBLIC_URL"] ?? "http://127.0.0.1:8080", tokenSecret: tokenSecret,
            unsubscribeMailbox: values["CICLO_UNSUBSCRIBE_MAILBOX"],
            defaultFrom: values["CICLO_EMAIL_FROM"] ?? "Ciclo <noreply@localhost>",
            smsSender: values["CICLO_SMS_SENDER"] ?? "Ciclo", smsDefaultCountryCode: values["CICLO_SMS_COUNTRY_CODE"],
            smsGateway: values["CICLO_SMS_URL"].map { SMSGateway(url: $0) },
            pushGateway: values["CICLO_PUSH_URL"].map { PushGateway(url: $0) }, webhook: webhook,
            tracksEmail: try emailTracking())
    }

    /// CICLO_EMAIL_TRACKING: `on` (the default) or `off`.
    func emailTracking() throws -> Bool {
        switch values["CICLO_EMAIL_TRACKING"] ?? "on" {
        case "on", "": return true
        case "off": return false
        case let other: throw UserError.configuration("CICLO_EMAIL_TRACKING is \"\(other)\"; use on or off")
        }
    }

    /// The outbox needs no provider: channels whose provider is not configured get a stand-in endpoint, which the
    /// file transport records but never contacts, so every channel renders into the outbox.
    func forOutbox(_ configuration: DeliveryConfiguration) throws -> DeliveryConfiguration {
        var configuration = configuration
        if configuration.smsGateway == nil { configuration.smsGateway = SMSGateway(url: "outbox:sms") }
        if configuration.pushGateway == nil { configuration.pushGateway = PushGateway(url: "outbox:push") }
        if configuration.webhook == nil {
            configuration.webhook = WebhookEndpoint(url: "outbox:webhook", secret: configuration.tokenSecret)
        }
        return configuration
    }

    /// Every channel writes to `<outbox>/<channel>/`, email as .eml.
    func fileTransports(outbox: URL, logger: Logger) -> DeliveryTransports {
        DeliveryTransports(
            email: FileTransport(directory: outbox, channel: .email, logger: logger),
            sms: FileTransport(directory: outbox, channel: .sms, logger: logger),
            push: FileTransport(directory: outbox, channel: .push, logger: logger),
            webhook: FileTransport(directory: outbox, channel: .webhook, logger: logger))
    }

    /// SMTP for email and HTTP for the rest, each only where it is configured.
    func liveTransports(logger: Logger) throws -> DeliveryTransports {
        var transports = DeliveryTransports()
        if let url = values["CICLO_SMTP_URL"] {
            let startTLS: SMTPTransport.Configuration.STARTTLS
            switch values["CICLO_SMTP_STARTTLS"] ?? "required" {
            case "off": startTLS = .off
            case "opportunistic": startTLS = .opportunistic
            case "required": startTLS = .required
            case let other:
                throw UserError.configuration("CICLO_SMTP_STARTTLS is \"\(other)\"; use off, opportunistic or required")
            }
            transports.email = SMTPTransport(
                configuration: .init(url: url, startTLS: startTLS, username: values["CICLO_SMTP_USERNAME"],
                                     password: try secret("CICLO_SMTP_PASSWORD")),
                logger: logger)
        }
        let http = CurlHTTPTransport(logger: logger)
        if values["CICLO_SMS_URL"] != nil { transports.sms = http }
        if values["CICLO_PUSH_URL"] != nil { transports.push = http }
        if values["CICLO_WEBHOOK_URL"] != nil { transports.webhook = http }
        return transports
    }
}
