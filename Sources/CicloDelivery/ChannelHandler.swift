import CicloChannels
import CicloQueue
import CicloWorker
import Foundation
import Logging
import Postgres

/// The worker's handler for real channels: finds the campaign's template for the job's variant and the customer's
/// locale, renders it with the customer's and the send's values, builds the channel's message and hands it to the
/// channel's transport. Every way a send can end is an outcome with a reason; nothing half-rendered goes out.
public struct ChannelHandler: JobHandler {
    let configuration: DeliveryConfiguration
    let transports: DeliveryTransports
    let templates: TemplateStore
    let emailRenderer: EmailRenderer
    /// The configured From, parsed once rather than per send (an error still fails each email that uses it).
    let defaultFrom: Result<EmailAddress, EmailError>
    /// Each campaign's sender headers, checked and written once.
    let emailSenders = EmailSenders()
    /// Each campaign's JSON and each payload, parsed once rather than with every job.
    let parsed = ParsedJSON()
    /// The token secret keyed once for every send's unsubscribe link, and the email tracking signing with it.
    let tokenKey: KeyedHMAC
    let tracking: EmailTracking?
    let logger: Logger

    public init(configuration: DeliveryConfiguration, transports: DeliveryTransports, templates: TemplateStore,
                logger: Logger) {
        self.configuration = configuration
        self.transports = transports
        self.templates = templates
        self.emailRenderer = EmailRenderer(configuration: .init(messageIDDomain: configuration.messageIDDomain))
        self.defaultFrom = Result { () throws(EmailError) in try EmailAddress(configuration.defaultFrom) }
        let tokenKey = KeyedHMAC(secret: configuration.tokenSecret)
        self.tokenKey = tokenKey
        self.tracking = configuration.tracksEmail
            ? EmailTracking(baseURL: configuration.publicBaseURL, key: tokenKey) : nil
        self.logger = logger
    }

    public func handle(_ job: ClaimedJob) async -> JobOutcome {
        guard let channel = Channel(rawValue: job.channel) else {
            return .failed(.permanent("channel \(job.channel) is not one Ciclo delivers on"))
        }
        guard let campaignID = job.campaignID else { return .suppressed(reason: RenderFailure.reason) }
        let context = SendContext(job, parsed: parsed)
        let locale = context.customerField("locale") ?? "en"
        let entry: TemplateStore.Entry
        switch await templates.template(campaignID: campaignID, variant: context.variant, locale: locale) {
        case .success(let found): entry = found
        case .failure(.unavailable(let why)): return .failed(.transient("templates unavailable: \(why)"))
        case .failure(let why):
            logger.warning("no usable template; send suppressed", metadata: ["job": "\(job.id)", "why": "\(why)"])
            return .suppressed(reason: RenderFailure.reason)
        }
        let links =
            UnsubscribeLinks.needed(channel: job.channel, template: entry.template) ? unsubscribeLinks(for: job) : nil
        if channel == .email {
            return await sendEmail(context, template: entry.template, values: context.values(links: links), links: links)
        }
        let parts: [String: String]
        // An email without a text part gets the one derived from its HTML, from the compiled template when it can.
        switch entry.template.render(context.values(links: links)) {
        case .success(let rendered): parts = rendered
        case .failure(let failure):
            logger.notice("render failed; send suppressed", metadata: ["job": "\(job.id)", "why": "\(failure)"])
            return .suppressed(reason: RenderFailure.reason)
        }
        switch channel {
        case .email: preconditionFailure("email is rendered from its template above")
        case .sms: return await sendSMS(context, parts: parts)
        case .push: return await sendPush(context, parts: parts)
        case .webhook: return await sendWebhook(context, parts: parts)
        }
    }

    /// The signed https unsubscribe link and the mailto, for templates (`send.unsubscribe_url`) and headers.
    func unsubscribeLinks(for job: ClaimedJob) -> UnsubscribeLinks {
        UnsubscribeLinks(
            baseURL: configuration.publicBaseURL, mailbox: configuration.unsubscribeMailbox, key: tokenKey,
            idempotencyKey: job.idempotencyKey, customer: job.customerID, channel: job.channel)
    }

    /// Renders the email from its compiled template (see `EmailRenderer.render(_:values:sender:...)`) and sends it.
    func sendEmail(
        _ context: SendContext, template: MessageTemplate, values: [String: String], links: UnsubscribeLinks?
    ) async -> JobOutcome {
        let job = context.job, settings = context.delivery.email
        // A send that cannot be rendered is suppressed before anything else is looked at, as for other channels.
        if let failure = template.missingVariables(values) {
            logger.notice("render failed; send suppressed", metadata: ["job": "\(job.id)", "why": "\(failure)"])
            return .suppressed(reason: RenderFailure.reason)
        }
        guard let transport = transports.email else { return .failed(.permanent("no email transport is configured")) }
        guard let address = context.customerField("email") else {
            return .suppressed(reason: "no_address")
        }
        do {
            let sender = try emailSenders.sender(
                from: settings.from, replyTo: settings.replyTo, campaign: context.campaignKey ?? ""
            ) { () throws(EmailError) in
                let from: EmailAddress
                if let campaignFrom = settings.from {
                    from = try EmailAddress(campaignFrom)
                } else {
                    from = try defaultFrom.get()
                }
                let replyTo = try settings.replyTo.map { (replyTo) throws(EmailError) in try EmailAddress(replyTo) }
                return EmailSender(
                    from: from, replyTo: replyTo,
                    headers: [EmailHeader("X-Ciclo-Campaign", context.campaignKey ?? "")],
                    unsubscribeMailbox: configuration.unsubscribeMailbox, configuration: emailRenderer.configuration)
            }
            let envelope = try emailRenderer.render(
                template, values: values, sender: sender, to: [try EmailAddress(address)],
                idempotencyKey: job.idempotencyKey, date: Date(),
                unsubscribe: ListUnsubscribe(url: links?.url, mailto: links?.mailto),
                tracking: tracking, customer: job.customerID, openToken: links?.openToken)
            return Self.outcome(await transport.send(envelope))
        } catch {
            // An invalid address (or header text) will not become valid by retrying.
            return .failed(.permanent("email not sent: \(error)"))
        }
    }

    func sendSMS(_ context: SendContext, parts: [String: String]) async -> JobOutcome {
        let job = context.job, settings = context.delivery.sms
        guard let transport = transports.sms, let gateway = configuration.smsGateway else {
            return .failed(.permanent("no SMS gateway is configured"))
        }
        guard let raw = context.customerField("phone") else { return .suppressed(reason: "no_address") }
        let phone: PhoneNumber
        do {
            phone = try PhoneNumber(raw, defaultCountryCode: configuration.smsDefaultCountryCode)
        } catch {
            return .failed(.permanent("phone number not usable: \(error)"))
        }
        var policy = configuration.smsPolicy
        if let max = settings.maxSegments { policy.maxSegments = max }
        if let transliterate = settings.transliterate { policy.allowsTransliteration = transliterate }
        switch SMSMessage.compose(text: parts["body"] ?? "", to: phone, from: settings.from ?? configuration.smsSender,
                                  policy: policy) {
        case .ready(let message):
            return Self.outcome(await transport.send(gateway.request(for: message, idempotencyKey: job.idempotencyKey)))
        case let other:
            return .suppressed(reason: other.suppressionReason ?? RenderFailure.reason)
        }
    }

    func sendPush(_ context: SendContext, parts: [String: String]) async -> JobOutcome {
        let job = context.job
        guard let transport = transports.push, let gateway = configuration.pushGateway else {
            return .failed(.permanent("no push gateway is configured"))
        }
        guard let token = context.customerField("push_token") else {
            return .suppressed(reason: "no_address")
        }
        let notification = PushNotification(
            title: parts["title"] ?? "", body: parts["body"] ?? "", deepLink: parts["deep_link"].flatMap { $0.isEmpty ? nil : $0 },
            data: ["key": job.idempotencyKey])
        do {
            let request = try gateway.request(for: notification, deviceToken: token, idempotencyKey: job.idempotencyKey)
            return Self.outcome(await transport.send(request))
        } catch {
            return .suppressed(reason: error.reason)
        }
    }

    func sendWebhook(_ context: SendContext, parts: [String: String]) async -> JobOutcome {
        let job = context.job
        guard let transport = transports.webhook, let endpoint = configuration.webhook else {
            return .failed(.permanent("no webhook endpoint is configured"))
        }
        let body = WebhookPayload(
            key: job.idempotencyKey, customer: context.customer.fields["external_id"],
            campaign: context.campaignKey, message: parts)
        do {
            let request = try endpoint.request(json: body, idempotencyKey: job.idempotencyKey, now: Date())
            return Self.outcome(await transport.send(request))
        } catch {
            return .failed(.permanent("webhook not sent: \(error)"))
        }
    }

    static func outcome(_ result: TransportResult) -> JobOutcome {
        switch result {
        case .delivered(let id): return .sent(providerMessageID: id)
        case .failed(let message, true, _): return .failed(.permanent(message))
        case .failed(let message, false, let retryAfter): return .failed(.transient(message, retryAfter: retryAfter))
        case .throttled(let message, let retryAfter): return .throttled(message: message, retryAfter: retryAfter)
        }
    }
}
