import Foundation

extension EmailRenderer {
    /// Renders a campaign email straight from its compiled template: the same message as rendering the template's
    /// parts (`MessageTemplate.render(_:derivingTextFromHTML: true)`), building an `EmailMessage` from them and
    /// `sender`, and `render(_:)`, which is what it does whenever the fast path below does not apply, and for every
    /// error. The same headers byte for byte, and the same parts once decoded: their quoted-printable may break lines
    /// elsewhere (see `EncodedStatic`).
    ///
    /// The fast path works from the compiled parts (`MessageTemplate.EmailParts`): the body parts' values are spliced
    /// between static text whose quoted-printable encoding was worked out once, the sender's headers were written
    /// once, and no body is ever a `String`. `tracking` (the worker's click and open tracking for `customer`) fills
    /// the slots the template's links and pixel were given (`TrackedHTML`); when the template has none, it is
    /// applied to the rendered HTML, which is then encoded as a whole. `openToken` is the pixel's token where the
    /// send's unsubscribe links were signed (`UnsubscribeLinks.openToken`); without it the pixel is signed here.
    ///
    /// Throws `RenderFailure` when a variable has neither a value nor a default, `EmailError` when the message cannot
    /// be built.
    public func render(
        _ template: MessageTemplate, values: [String: String], sender: EmailSender, to: [EmailAddress],
        idempotencyKey: String, date: Date, unsubscribe: ListUnsubscribe?, tracking: EmailTracking? = nil,
        customer: Int64 = 0, openToken: String? = nil
    ) throws -> EmailEnvelope {
        let resolved = try template.resolve(values).get()
        if let envelope = spliced(
            template, resolved, sender: sender, to: to, idempotencyKey: idempotencyKey, date: date,
            unsubscribe: unsubscribe, tracking: tracking, customer: customer, openToken: openToken)
        {
            return envelope
        }
        return try renderMessage(
            template, values: values, sender: sender, to: to, idempotencyKey: idempotencyKey, date: date,
            unsubscribe: unsubscribe, tracking: tracking, customer: customer, openToken: openToken)
    }

    /// The straightforward path: the parts as strings, an `EmailMessage`, `render(_:)`. What the worker did before
    /// the fast path, and what the tests compare it with.
    func renderMessage(
        _ template: MessageTemplate, values: [String: String], sender: EmailSender, to: [EmailAddress],
        idempotencyKey: String, date: Date, unsubscribe: ListUnsubscribe?, tracking: EmailTracking? = nil,
        customer: Int64 = 0, openToken: String? = nil
    ) throws -> EmailEnvelope {
        let parts = try template.render(values, derivingTextFromHTML: true).get()
        let html = parts["html"].map {
            tracking?.apply(html: $0, key: idempotencyKey, customer: customer, openToken: openToken) ?? $0
        } ?? ""
        let message = EmailMessage(
            from: sender.from, replyTo: sender.replyTo, to: to, subject: parts["subject"] ?? "", html: html,
            text: parts["text"], idempotencyKey: idempotencyKey, date: date, unsubscribe: unsubscribe,
            headers: sender.headers)
        return try render(message)
    }

    /// The fast path (`values` resolved, one per variable), or nil when it does not apply or a check fails (the caller then renders the message, which
    /// reports the failure exactly as it always has).
    func spliced(
        _ template: MessageTemplate, _ values: [String], sender: EmailSender, to: [EmailAddress],
        idempotencyKey: String, date: Date, unsubscribe: ListUnsubscribe?, tracking: EmailTracking?, customer: Int64,
        openToken: String? = nil
    ) -> EmailEnvelope? {
        guard let parts = template.emailParts, let prepared = sender.prepared,
            prepared.configuration == configuration, !to.isEmpty, !idempotencyKey.isEmpty,
            (try? EmailAddress.rejectControls(idempotencyKey, field: "idempotency key")) != nil
        else { return nil }
        let subject = parts.subject?.render(values) ?? ""
        guard (try? EmailAddress.rejectControls(subject, field: "subject", allowTab: true)) != nil,
            !Blank.isBlank(subject, .whitespaces)
        else { return nil }
        guard let unsubscribeURIs = Self.uris(unsubscribe, prepared) else { return nil }

        // The HTML: spliced, with tracking's slots when it applies; else rendered whole and tracked.
        let escaped = parts.htmlTemplate.escapedValues(values)
        var htmlBody = parts.html
        var slots: [String] = []
        var trackedWhole: String?
        if let tracking {
            // A base URL holding "<" could add a "</body>" before the pixel's place: left to `apply`.
            if let tracked = parts.trackedHTML, !UTF8Text.contains(tracking.baseURL, UInt8(ascii: "<")),
                let filled = tracked.slots(
                    tracking, key: idempotencyKey, customer: customer, openToken: openToken, escaped: escaped)
            {
                htmlBody = tracked.body
                slots = filled
            } else {
                let html = tracking.apply(
                    html: parts.htmlTemplate.render(values), key: idempotencyKey, customer: customer,
                    openToken: openToken)
                guard !Blank.isBlank(html, .whitespacesAndNewlines) else { return nil }
                trackedWhole = html
            }
        }
        if trackedWhole == nil && !htmlBody.hasVisibleText { return nil }
        let spliceValues = SpliceValues(values, escaped: escaped, slots: slots)
        // The text: the template's own or derived once, spliced; else derived from the HTML as rendered (before
        // tracking, as `MessageTemplate.render` derives it). A blank text is derived again from the HTML by
        // `render(_:)`: left to it.
        let text: BodyText
        if let spliced = parts.text, !parts.isTextDerived || template.derivedTextApplies(values) {
            guard spliced.hasVisibleText || Self.isVisible(spliced.text(spliceValues)) else { return nil }
            text = .spliced(spliced)
        } else {
            let bytes = HTMLText.plainTextBytes(fromHTML: parts.htmlTemplate.render(values))
            guard Self.isVisible(bytes) else { return nil }
            text = .bytes(bytes)
        }

        let (localPart, boundary) = Self.identifiers(idempotencyKey)
        let messageID = localPart + "@" + prepared.domain
        var out: [UInt8] = []
        out.reserveCapacity(4096 + 2 * (htmlBody.encoded.bytes.count + (parts.text?.encoded.bytes.count ?? 0)))
        out.append(contentsOf: Self.dateName)
        Self.appendDate(date, to: &out)
        out.append(contentsOf: Self.crlf)
        out.append(contentsOf: prepared.addressHeaders)
        var writer = HeaderWriter(name: "")
        func add(_ name: String, _ build: (inout HeaderWriter) -> Void) {
            writer.restart(name: name)
            build(&writer)
            writer.write(to: &out)
        }
        add("To") { $0.addresses(to) }
        add("Subject") { $0.unstructured(Blank.trimmed(subject, .whitespaces)) }
        add("Message-ID") { $0.word(messageID, before: "<", after: ">") }
        out.append(contentsOf: Self.mimeVersion)
        if !unsubscribeURIs.isEmpty {
            add("List-Unsubscribe") { writer in
                for (index, uri) in unsubscribeURIs.enumerated() {
                    writer.word(uri, before: "<", after: index < unsubscribeURIs.count - 1 ? ">," : ">")
                }
            }
        }
        if let url = unsubscribe?.url, UTF8Text.hasASCIIPrefixIgnoringCase(url, "https://") {
            out.append(contentsOf: Self.oneClick)
        }
        out.append(contentsOf: prepared.extraHeaders)
        add("Content-Type") {
            $0.word("multipart/alternative;")
            $0.word(boundary, before: "boundary=\"", after: "\"")
        }
        out.append(contentsOf: Self.crlf)

        switch text {
        case .spliced(let body): Self.part(body, spliceValues, subtype: "plain", boundary: boundary, into: &out)
        case .bytes(let bytes):
            bytes.withUnsafeBufferPointer { Self.part($0, subtype: "plain", boundary: boundary, into: &out) }
        }
        if var trackedWhole {
            trackedWhole.withUTF8 { Self.part($0, subtype: "html", boundary: boundary, into: &out) }
        } else {
            Self.part(htmlBody, spliceValues, subtype: "html", boundary: boundary, into: &out)
        }
        out.append(contentsOf: Self.boundaryDashes)
        UTF8Text.append(boundary, to: &out)
        out.append(contentsOf: Self.closing)
        return EmailEnvelope(
            from: sender.from.address, recipients: to.map(\.address), message: Data(out), messageID: messageID)
    }

    /// Where the text part comes from: a compiled part with this send's values, or text derived for this send.
    private enum BodyText {
        case spliced(SplicedBody)
        case bytes([UInt8])
    }

    /// A compiled part with `values`: its static text as encoded once, when that applies (see
    /// `SplicedBody.quotedPrintable`); else its text, encoded whole.
    private static func part(
        _ body: SplicedBody, _ values: SpliceValues, subtype: String, boundary: String, into out: inout [UInt8]
    ) {
        guard let encoded = body.quotedPrintable(values) else {
            let likelyBase64 = body.certainlyBase64(values)
            body.text(values).withUnsafeBufferPointer {
                part($0, subtype: subtype, boundary: boundary, likelyBase64: likelyBase64, into: &out)
            }
            return
        }
        partHeader(.quotedPrintable, subtype: subtype, boundary: boundary, into: &out)
        out.append(contentsOf: encoded)
    }

    /// Whether text has a printable ASCII character other than a space, and so is certainly not blank.
    private static func isVisible(_ bytes: [UInt8]) -> Bool {
        bytes.contains { $0 &- 0x21 < 0x7F - 0x21 }
    }

    /// `unsubscribe.uris()`, without parsing the sender's own mailbox again; nil when a check fails.
    private static func uris(_ unsubscribe: ListUnsubscribe?, _ prepared: EmailSender.Prepared) -> [String]? {
        guard let unsubscribe else { return [] }
        guard let mailto = unsubscribe.mailto, let prefix = prepared.mailtoPrefix, let checked = prepared.checkedMailto,
            UTF8Text.hasPrefix(mailto, prefix), ListUnsubscribe.isBracketable(mailto)
        else { return try? unsubscribe.uris() }
        var uris: [String] = []
        if unsubscribe.url != nil {
            guard let checkedURL = try? ListUnsubscribe(url: unsubscribe.url).uris() else { return nil }
            uris = checkedURL
        }
        // Printable ASCII (checked): bytes are characters.
        uris.append(checked + String(decoding: mailto.utf8.dropFirst(prefix.count - 1), as: UTF8.self))
        return uris
    }

    private static let dateName: [UInt8] = Array("Date: ".utf8)
    private static let mimeVersion: [UInt8] = Array("MIME-Version: 1.0\r\n".utf8)
    private static let oneClick: [UInt8] = Array("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n".utf8)
    private static let boundaryDashes: [UInt8] = Array("--".utf8)
    private static let closing: [UInt8] = Array("--\r\n".utf8)
}
