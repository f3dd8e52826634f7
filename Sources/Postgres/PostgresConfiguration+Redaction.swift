import Foundation

extension PostgresConfiguration {
    /// `message` with the connection string's password replaced by `***`. libpq quotes the text it could not parse,
    /// and for a malformed URI that is the whole URI (`... in URI: "postgresql://app:secret@[bad"`), so every message
    /// built from libpq's words about this configuration goes through here before it reaches a log or a person.
    /// The password is found without libpq (the string may be one libpq refuses): the userinfo of a URI, or a
    /// `password=` keyword, in the form written and percent-decoded.
    public func redactingPassword(in message: String) -> String {
        guard let connectionString else { return message }
        var redacted = message
        for secret in Self.passwords(in: connectionString) where !secret.isEmpty {
            redacted = redacted.replacingOccurrences(of: secret, with: "***")
        }
        return redacted
    }

    /// Every spelling of the password a connection string carries, longest first so that a decoded form that is a
    /// substring of the written one does not leave the rest behind.
    static func passwords(in connectionString: String) -> [String] {
        var found: [String] = []
        let text = connectionString.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") {
            let rest = text[text.index(after: text.firstIndex(of: "/")!)...].dropFirst()
            // The authority ends at the first '/', '?' or '#'; its userinfo at the last '@' before that.
            let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                found.append(String(authority[authority.index(after: colon)..<at]))
            }
            // A password may also come as a query parameter: ?password=...
            if let query = text.split(separator: "?", maxSplits: 1).dropFirst().first {
                for pair in query.split(separator: "&") where pair.hasPrefix("password=") {
                    found.append(String(pair.dropFirst("password=".count)))
                }
            }
        } else {
            found += keywordPasswords(in: text)
        }
        found += found.compactMap { $0.removingPercentEncoding }
        return Array(Set(found)).sorted { $0.count > $1.count }
    }

    /// `password = value` in a key=value string: the value bare, or single-quoted with backslash escapes, written and
    /// unescaped.
    private static func keywordPasswords(in text: String) -> [String] {
        var found: [String] = []
        var search = text[...]
        while let range = search.range(of: "password") {
            var cursor = range.upperBound
            search = text[range.upperBound...]
            while cursor < text.endIndex, text[cursor] == " " { cursor = text.index(after: cursor) }
            guard cursor < text.endIndex, text[cursor] == "=" else { continue }
            cursor = text.index(after: cursor)
            while cursor < text.endIndex, text[cursor] == " " { cursor = text.index(after: cursor) }
            guard cursor < text.endIndex else { continue }
            if text[cursor] == "'" {
                var value = "", written = ""
                var index = text.index(after: cursor)
                while index < text.endIndex, text[index] != "'" {
                    written.append(text[index])
                    if text[index] == "\\", text.index(after: index) < text.endIndex {
                        index = text.index(after: index)
                        written.append(text[index])
                    }
                    value.append(text[index])
                    index = text.index(after: index)
                }
                found += [written, value]
            } else {
                found.append(String(text[cursor...].prefix { !$0.isWhitespace }))
            }
        }
        return found
    }
}
