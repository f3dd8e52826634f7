import CicloChannels
import Foundation
import Postgres

/// An unsubscribe that arrives by email. Every email's `List-Unsubscribe` offers
/// `mailto:<mailbox>?subject=unsubscribe%20<token>` beside the one-click URL, and a mail client that takes the mailto
/// sends a message whose Subject is "unsubscribe <token>": the same signed token as the URL's, so it suppresses the
/// same customer and channel, and only that one. `ciclo unsubscribe-mail` reads such a message from the mailbox's
/// delivery (an MTA pipe, a maildir). A message without a valid token changes nothing.
public struct MailtoUnsubscribe: Sendable {
    /// Why a message is not an unsubscribe this mailbox can act on.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case tooLarge(bytes: Int)
        case noSubject
        case noToken(subject: String)
        case invalidToken(SignedToken.VerificationError)

        public var description: String {
            switch self {
            case .tooLarge(let bytes):
                "the message is \(bytes) bytes; an unsubscribe request is a short message (at most \(MailtoUnsubscribe.maxBytes))"
            case .noSubject: "the message has no Subject header, which carries the unsubscribe token"
            case .noToken(let subject):
                "the Subject \(String(subject.prefix(120)).debugDescription) is not \"unsubscribe <token>\""
            case .invalidToken(let error):
                "the Subject's token is not one this deployment signed for unsubscribing (\(error)); use the link in the email"
            }
        }
    }

    /// What a valid request did.
    public struct Outcome: Sendable, Equatable {
        public var customer: Int64
        public var channel: String
        /// False when the send's unsubscribe was recorded before (a repeated request changes nothing).
        public var recorded: Bool
    }

    /// Headers and a short body; a larger message is not a client's unsubscribe request.
    public static let maxBytes = 1 << 20

    private let key: KeyedHMAC

    public init(tokenSecret: String) {
        key = KeyedHMAC(secret: tokenSecret)
    }

    /// The claims of the unsubscribe token in a raw RFC 5322 message's Subject, verified.
    public func claims(inMessage message: [UInt8]) throws(Problem) -> SignedToken.Claims {
        guard message.count <= Self.maxBytes else { throw .tooLarge(bytes: message.count) }
        guard let subject = MailHeaders.field("subject", in: message) else { throw .noSubject }
        let words = EncodedWords.decode(subject).split(whereSeparator: \.isWhitespace)
        // "unsubscribe <token>", possibly after a reply prefix a client added.
        guard let index = words.firstIndex(where: { $0.lowercased() == "unsubscribe" }), index + 1 < words.count else {
            throw .noToken(subject: subject)
        }
        do {
            return try SignedToken.verify(String(words[index + 1]), purpose: "u", key: key)
        } catch {
            throw .invalidToken(error)
        }
    }

    /// Suppresses the customer of verified claims (`claims(inMessage:)`) on their channel and records the send's
    /// unsubscribe, as the one-click link does.
    public func apply(_ claims: SignedToken.Claims, on conn: PostgresConnection) async throws -> Outcome {
        let recorded = try await TrackingStore().unsubscribe(claims, method: "mailto", on: conn)
        return Outcome(customer: claims.customer, channel: claims.channel, recorded: recorded)
    }
}

/// Reading a header field from a raw message: enough for an unsubscribe request, not a MIME parser.
enum MailHeaders {
    /// The first field named `name` (ASCII, case-insensitive), unfolded, without its name and surrounding space;
    /// nil when the header section has none. The header section ends at the first empty line; lines end in CRLF
    /// or LF (a message handed over by a local MTA uses LF).
    static func field(_ name: String, in message: [UInt8]) -> String? {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        while start < message.count {
            var end = message[start...].firstIndex(of: 0x0A) ?? message.count
            let next = end + 1
            if end > start && message[end - 1] == 0x0D { end -= 1 }
            let line = message[start..<end]
            if line.isEmpty { break }
            if let first = line.first, first == 0x20 || first == 0x09, !lines.isEmpty {
                lines[lines.count - 1] += line  // folded: the line break goes, the white space stays
            } else {
                lines.append(line)
            }
            start = next
        }
        let wanted = Array(name.lowercased().utf8)
        for line in lines {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let fieldName = line[line.startIndex..<colon].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
            guard fieldName == wanted else { continue }
            return String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}

/// RFC 2047 encoded-words in an unstructured header, decoded: a client may encode a Subject even when it is ASCII.
/// Charsets other than UTF-8 are read as Latin-1 when their bytes are not valid UTF-8 (the token is ASCII either
/// way); a word that does not parse stays as it is.
enum EncodedWords {
    static func decode(_ text: String) -> String {
        guard text.contains("=?") else { return text }
        var out = ""
        var gap = ""  // the spaces since the last word
        var afterEncoded = false
        for (index, piece) in text.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
            if index > 0 { gap += " " }
            if piece.isEmpty { continue }
            if let decoded = word(piece) {
                // White space between two encoded-words is not part of the text (RFC 2047 6.2).
                if !afterEncoded { out += gap }
                out += decoded
                afterEncoded = true
            } else {
                out += gap + piece
                afterEncoded = false
            }
            gap = ""
        }
        return out + gap
    }

    /// One `=?charset?B|Q?text?=`, or nil.
    private static func word(_ piece: Substring) -> String? {
        guard piece.hasPrefix("=?"), piece.hasSuffix("?="), piece.count >= 8 else { return nil }
        let parts = piece.dropFirst(2).dropLast(2).split(separator: "?", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let bytes: [UInt8]
        switch parts[1].uppercased() {
        case "B":
            var base64 = String(parts[2])
            while base64.utf8.count % 4 != 0 { base64 += "=" }
            guard let data = Data(base64Encoded: base64) else { return nil }
            bytes = Array(data)
        case "Q":
            var decoded: [UInt8] = []
            var input = Array(parts[2].utf8)[...]
            while let byte = input.popFirst() {
                if byte == UInt8(ascii: "_") {
                    decoded.append(0x20)
                } else if byte == UInt8(ascii: "="), input.count >= 2,
                    let value = UInt8(String(decoding: input.prefix(2), as: UTF8.self), radix: 16)
                {
                    decoded.append(value)
                    input = input.dropFirst(2)
                } else {
                    decoded.append(byte)
                }
            }
            bytes = decoded
        default:
            return nil
        }
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        return String(bytes.map { Character(Unicode.Scalar($0)) })
    }
}
