import Foundation

/// An email address, with an optional display name, checked before anything is sent to it.
///
/// The address is what SMTP accepts without extensions: an ASCII dot-atom local part and a host name of at least
/// two labels. An internationalised domain (`josé@café.example`'s right half) is converted to its IDNA A-label form
/// (`xn--caf-dma.example`); a non-ASCII local part would need SMTPUTF8 and is refused. Quoted local parts and
/// address literals (`user@[192.0.2.1]`) are legal in RFC 5322 but are refused too: real mailboxes do not use them,
/// and typo'd customer data does.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    /// The display name (any Unicode; encoded per RFC 2047 when rendered), its white space collapsed, or nil.
    public let displayName: String?
    /// The part before the `@`, as given (local parts may be case-sensitive).
    public let localPart: String
    /// The domain in ASCII: lowercased, with internationalised labels as IDNA A-labels (`xn--...`).
    public let domain: String

    /// The bare address (RFC 5322 addr-spec) for the SMTP envelope: `local@domain`.
    public let address: String

    /// The address as a person would write it, for logs: `Name <local@domain>`, unencoded.
    public var description: String {
        guard let displayName else { return address }
        return "\(displayName) <\(address)>"
    }

    /// Parses `local@domain`, `<local@domain>`, `Name <local@domain>` or `"Name, Quoted" <local@domain>`.
    public init(_ string: String) throws(EmailError) {
        try Self.rejectLineBreaks(string, field: "email address")
        let trimmed = Blank.trimmed(string, .whitespaces)
        // In ASCII each character is one byte, so byte searches find what the character searches find, cheaply.
        let open =
            !UTF8Text.contains(trimmed, where: { $0 >= 0x80 })
            ? (trimmed.utf8.last == UInt8(ascii: ">") ? trimmed.utf8.lastIndex(of: UInt8(ascii: "<")) : nil)
            : (trimmed.hasSuffix(">") ? trimmed.lastIndex(of: "<") : nil)
        guard let open else {
            try self.init(address: trimmed)
            return
        }
        let inner = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
        var name = Blank.trimmed(String(trimmed[..<open]), .whitespaces)
        if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
            name = Self.unquote(String(name.dropFirst().dropLast()))
        }
        try self.init(address: inner, displayName: name)
    }

    /// Validates a bare address and keeps `displayName` (white space collapsed; empty means none).
    public init(address: String, displayName: String? = nil) throws(EmailError) {
        let local: String, domain: String, joined: String
        if let plain = Self.plainParts(address) {
            (local, domain, joined) = plain
        } else {
            (local, domain) = try Self.parse(address)
            joined = local + "@" + domain
        }
        if let displayName {
            try Self.rejectControls(displayName, field: "display name")
        }
        // Runs of spaces collapse: in a header's phrase, white space between words means one space anyway.
        let name = displayName.map { name in
            Self.isCollapsed(name) ? name : name.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        self.displayName = name?.isEmpty == false ? name : nil
        self.localPart = local
        self.domain = domain
        self.address = joined
    }

    /// The usual address, `local@host.example` in plain ASCII, checked in one pass over its bytes: the local part
    /// and domain `parse` would give and the address they make, or nil for anything else, which `parse` then reads (and may refuse). It
    /// accepts only what `parse` accepts: no white space or controls to trim or refuse, one "@", a dot-atom local
    /// part of 1 to 64 characters without a dot at either end or two in a row, a plain host name of two labels or
    /// more (which IDNA only lowercases), and 254 characters at most.
    static func plainParts(_ address: String) -> (local: String, domain: String, address: String)? {
        var utf8 = address
        let parts: (local: String, domain: String, lowered: Bool)? = utf8.withUTF8 { bytes in
            guard bytes.count <= 254, let at = UTF8Text.firstIndex(of: UInt8(ascii: "@"), in: bytes, from: 0) else {
                return nil
            }
            let localBytes = bytes[..<at]
            let domainBytes = bytes[(at + 1)...]
            guard (1...64).contains(localBytes.count), localBytes.first != UInt8(ascii: "."),
                localBytes.last != UInt8(ascii: "."), HostName.isPlain(domainBytes, minimumLabels: 2)
            else { return nil }
            var previous: UInt8 = 0
            for byte in localBytes {
                guard byte < 0x80, dotAtom[Int(byte)], !(byte == UInt8(ascii: ".") && previous == byte) else {
                    return nil
                }
                previous = byte
            }
            // ASCII throughout: the parts are their bytes, the domain lowercased as IDNA would.
            let isUpper = { (byte: UInt8) in byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") }
            let lowered = domainBytes.contains(where: isUpper)
            let domain = String(unsafeUninitializedCapacity: domainBytes.count) { out in
                for (offset, byte) in domainBytes.enumerated() { out[offset] = isUpper(byte) ? byte + 32 : byte }
                return domainBytes.count
            }
            return (String(decoding: UnsafeBufferPointer(rebasing: localBytes), as: UTF8.self), domain, lowered)
        }
        guard let parts else { return nil }
        // The address is the one given unless lowercasing changed it.
        return (parts.local, parts.domain, parts.lowered ? parts.local + "@" + parts.domain : address)
    }

    /// Reads and checks any other address, naming what is wrong with it.
    static func parse(_ address: String) throws(EmailError) -> (local: String, domain: String) {
        let address = Blank.trimmed(address, .whitespaces)
        try Self.rejectControls(address, field: "email address", allowTab: true)
        guard !address.isEmpty else {
            throw EmailError(.emptyAddress, field: "email address", reason: "it is empty", value: address)
        }
        if address.unicodeScalars.contains(where: { UTF8Text.isWhitespace($0.value) }) {
            throw EmailError(.whitespace, field: "email address", reason: "it contains a space", value: address)
        }
        // In ASCII (no CR or LF here) each character is one byte, so the byte search finds the same "@".
        let isASCII = address.utf8.allSatisfy { $0 < 0x80 }
        guard let at = isASCII ? address.utf8.lastIndex(of: UInt8(ascii: "@")) : address.lastIndex(of: "@") else {
            throw EmailError(.missingAtSign, field: "email address", reason: "it has no @ sign", value: address)
        }
        let local = String(address[..<at])
        let rawDomain = String(address[address.index(after: at)...])
        try Self.validateLocalPart(local, address: address)
        guard !rawDomain.isEmpty else {
            throw EmailError(.invalidDomain, field: "email address", reason: "nothing follows the @", value: address)
        }
        let domain: String
        do {
            domain = try IDNA.toASCII(rawDomain)
        } catch {
            throw EmailError(
                .invalidDomain, field: "email address", reason: "its domain \(error.reason)", value: address)
        }
        // RFC 5321's path limit of 256 octets includes the angle brackets, leaving 254 for the address.
        guard local.utf8.count + 1 + domain.utf8.count <= 254 else {
            throw EmailError(
                .addressTooLong, field: "email address", reason: "it is longer than 254 characters",
                value: address)
        }
        return (local, domain)
    }

    /// Whether collapsing white space would leave `name` as it is: printable ASCII words with single spaces
    /// between them (in ASCII, `Character.isWhitespace` holds for the space and tab to carriage return only).
    private static func isCollapsed(_ name: String) -> Bool {
        var previousSpace = true
        for byte in name.utf8 {
            if byte == UInt8(ascii: " ") {
                if previousSpace { return false }
                previousSpace = true
            } else if byte > 0x20 && byte < 0x7F {
                previousSpace = false
            } else {
                return false
            }
        }
        return !previousSpace || name.isEmpty
    }

    /// RFC 5322 atext and the dot: the ASCII bytes a dot-atom may hold, as a table indexed by byte.
    private static let dotAtom: [Bool] = {
        var table = [Bool](repeating: false, count: 128)
        for byte in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.".utf8 {
            table[Int(byte)] = true
        }
        return table
    }()

    private static func validateLocalPart(_ local: String, address: String) throws(EmailError) {
        func fail(_ reason: String, _ code: EmailError.Code = .invalidLocalPart) -> EmailError {
            EmailError(code, field: "email address", reason: reason, value: address)
        }
        guard !local.isEmpty else { throw fail("nothing comes before the @") }
        guard local.utf8.allSatisfy({ $0 < 0x80 }) else {
            throw fail("the part before the @ has non-ASCII characters, which need SMTPUTF8", .nonASCIILocalPart)
        }
        guard local.utf8.count <= 64 else {
            throw fail("the part before the @ is over 64 characters", .localPartTooLong)
        }
        if local.hasPrefix("\"") { throw fail("quoted local parts are not accepted") }
        if local.hasPrefix(".") || local.hasSuffix(".") {
            throw fail("the part before the @ starts or ends with a dot")
        }
        if UTF8Text.containsPair(local, UInt8(ascii: "."), UInt8(ascii: ".")) {
            throw fail("the part before the @ has two dots in a row")
        }
        // The local part is ASCII without line breaks here, so each byte is one character.
        if let bad = local.utf8.first(where: { !dotAtom[Int($0)] }) {
            throw fail("the character '\(Character(Unicode.Scalar(bad)))' is not allowed before the @")
        }
    }

    /// CR and LF are checked on the raw input, before trimming, so that no line break can reach a header.
    static func rejectLineBreaks(_ value: String, field: String) throws(EmailError) {
        if UTF8Text.contains(value, where: { $0 == 0x0D || $0 == 0x0A }) {
            throw EmailError(
                .headerInjection, field: field, reason: "it contains a line break (CR or LF)", value: value)
        }
    }

    /// C0 controls, DEL and C1 controls have no place in a header; a tab does, but not in an address.
    static func rejectControls(_ value: String, field: String, allowTab: Bool = false) throws(EmailError) {
        // One pass in the usual case: a line break is a control too, so the second look happens only on a refusal.
        guard UTF8Text.hasControl(value, allowTab: allowTab) else { return }
        try rejectLineBreaks(value, field: field)
        let control = value.unicodeScalars.first { scalar in
            (scalar.value < 0x20 && !(allowTab && scalar == "\t")) || (0x7F...0x9F).contains(scalar.value)
        }
        if let control {
            let code = String(control.value, radix: 16, uppercase: true)
            throw EmailError(
                .controlCharacter, field: field, reason: "it contains the control character U+\(code)",
                value: value)
        }
    }

    private static func unquote(_ quoted: String) -> String {
        var result = ""
        var escaped = false
        for character in quoted {
            if !escaped && character == "\\" {
                escaped = true
                continue
            }
            result.append(character)
            escaped = false
        }
        return result
    }
}
