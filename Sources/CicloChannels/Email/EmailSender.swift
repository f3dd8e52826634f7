/// What a campaign's emails share: From, Reply-To, the extra headers and the mailbox of the mailto unsubscribe
/// links, checked and written as header bytes once rather than for every send (see
/// `EmailRenderer.render(_:values:sender:...)`).
public struct EmailSender: Sendable {
    public let from: EmailAddress
    public let replyTo: EmailAddress?
    public let headers: [EmailHeader]
    /// The mailbox that mailto unsubscribe links address (`mailto:<mailbox>?...`), if there is one.
    public let unsubscribeMailbox: String?

    /// The checked, written forms, or nil when a check failed: every send then takes the `EmailMessage` path,
    /// which reports the failure.
    let prepared: Prepared?

    struct Prepared: Sendable {
        /// The renderer settings the domain was worked out for.
        var configuration: EmailRenderer.Configuration
        /// The Message-ID domain, in IDNA form.
        var domain: String
        /// `From` and `Reply-To`, and the extra headers, each a run of complete header lines.
        var addressHeaders: [UInt8]
        var extraHeaders: [UInt8]
        /// `mailto:<mailbox>?` as given, and `mailto:<mailbox as checked>`, which replaces it in the header.
        var mailtoPrefix: [UInt8]?
        var checkedMailto: String?
    }

    public init(
        from: EmailAddress, replyTo: EmailAddress? = nil, headers: [EmailHeader] = [],
        unsubscribeMailbox: String? = nil, configuration: EmailRenderer.Configuration = .init()
    ) {
        self.from = from
        self.replyTo = replyTo
        self.headers = headers
        self.unsubscribeMailbox = unsubscribeMailbox
        prepared = Self.prepare(from, replyTo, headers, unsubscribeMailbox, configuration)
    }

    private static func prepare(
        _ from: EmailAddress, _ replyTo: EmailAddress?, _ headers: [EmailHeader], _ mailbox: String?,
        _ configuration: EmailRenderer.Configuration
    ) -> Prepared? {
        guard (try? EmailMessage.validate(headers)) != nil,
            let domain = try? IDNA.toASCII(configuration.messageIDDomain ?? from.domain)
        else { return nil }
        var addressHeaders: [UInt8] = []
        var writer = HeaderWriter(name: "From")
        writer.addresses([from])
        writer.write(to: &addressHeaders)
        if let replyTo {
            writer = HeaderWriter(name: "Reply-To")
            writer.addresses([replyTo])
            writer.write(to: &addressHeaders)
        }
        var extraHeaders: [UInt8] = []
        for header in headers {
            writer = HeaderWriter(name: header.name)
            writer.unstructured(Blank.trimmed(header.value, .whitespaces))
            writer.write(to: &extraHeaders)
        }
        var prefix: [UInt8]?
        var checked: String?
        // The mailbox as `ListUnsubscribe.uris` checks a mailto's address; a mailbox it would refuse is left to it.
        if let mailbox, (try? ListUnsubscribe(mailto: "mailto:" + mailbox).uris()) != nil,
            let address = try? EmailAddress(address: mailbox), !mailbox.utf8.contains(UInt8(ascii: "?"))
        {
            prefix = Array("mailto:\(mailbox)?".utf8)
            checked = "mailto:" + address.address
        }
        return Prepared(
            configuration: configuration, domain: domain, addressHeaders: addressHeaders,
            extraHeaders: extraHeaders, mailtoPrefix: prefix, checkedMailto: checked)
    }
}
