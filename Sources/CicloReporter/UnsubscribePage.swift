import Foundation

/// The unsubscribe confirmation page and the reading of its POST body. The page's form posts the same body a mail
/// client's one-click unsubscribe does (RFC 8058), back to the page's own address, so both take one path.
enum UnsubscribePage {
    static func confirm(channel: String) -> String {
        page(title: "Unsubscribe", body: """
            <h1>Unsubscribe</h1>
            <p>Stop receiving these messages by \(escape(channelName(channel)))?</p>
            <form method="post" action="">
              <input type="hidden" name="List-Unsubscribe" value="One-Click">
              <button type="submit">Unsubscribe</button>
            </form>
            """)
    }

    static func done(channel: String) -> String {
        page(title: "Unsubscribed", body: """
            <h1>You are unsubscribed</h1>
            <p>You will not receive these messages by \(escape(channelName(channel))) any more.</p>
            """)
    }

    static func invalid() -> String {
        page(title: "Link not valid", body: """
            <h1>This link is not valid</h1>
            <p>It may have been cut or changed. Use the unsubscribe link from the message itself.</p>
            """)
    }

    private static func channelName(_ channel: String) -> String {
        ["email": "email", "sms": "text message", "push": "notification", "webhook": "webhook"][channel] ?? channel
    }

    private static func page(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
        <meta name="robots" content="noindex"><title>\(escape(title))</title></head>
        <body>
        \(body)
        </body></html>

        """
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Whether a POST body says `List-Unsubscribe=One-Click`, form-encoded or as multipart/form-data (RFC 8058
    /// allows both).
    static func isOneClick(body: Data, contentType: String?) -> Bool {
        let text = String(decoding: body, as: UTF8.self)
        if let contentType, contentType.lowercased().hasPrefix("multipart/form-data"),
           let boundary = contentType.split(separator: ";").lazy
               .map({ $0.trimmingCharacters(in: .whitespaces) })
               .first(where: { $0.lowercased().hasPrefix("boundary=") })?.dropFirst("boundary=".count)
        {
            let delimiter = "--" + boundary.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return text.components(separatedBy: delimiter).contains { part in
                guard let split = part.range(of: "\r\n\r\n") else { return false }
                let headers = part[..<split.lowerBound].lowercased()
                return headers.contains("name=\"list-unsubscribe\"")
                    && part[split.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines) == "One-Click"
            }
        }
        return text.split(separator: "&").contains { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            return parts.count == 2 && parts[0] == "List-Unsubscribe" && parts[1] == "One-Click"
        }
    }
}
