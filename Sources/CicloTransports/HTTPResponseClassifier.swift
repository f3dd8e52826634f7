import CicloChannels
import Foundation

/// Turns an HTTP response into a `TransportResult`.
///
/// 2xx is delivered; 429 is a throttle (the provider asks us to slow down: not a failed attempt); 408 is transient
/// (the provider gave up waiting for us); other 4xx are permanent, since the same request will be refused again
/// (that includes 401 and 403: credentials that are wrong now will be wrong on every retry, and failing at once
/// shows the configuration error); 5xx is transient.
/// A 3xx is permanent: provider APIs do not redirect a POST, so the configured URL is wrong.
struct HTTPResponseClassifier: Sendable {
    var messageIDJSONField: String?
    var messageIDHeader: String?

    func classify(status: Int, headers: [HTTPHeader], body: Data, origin: String, now: Date) -> TransportResult {
        let retryAfter = header("Retry-After", in: headers).flatMap { Self.retryAfter($0, now: now) }
        switch status {
        case 200..<300:
            return .delivered(providerMessageID: messageID(headers: headers, body: body))
        case 429:
            return .throttled(message: failure(status, origin, body), retryAfter: retryAfter)
        case 408:
            return .failed(message: failure(status, origin, body), permanent: false, retryAfter: retryAfter)
        case 300..<500:
            return .failed(message: failure(status, origin, body), permanent: true, retryAfter: nil)
        default:
            // 5xx (a 503 may carry Retry-After too), and anything a server should not send.
            return .failed(message: failure(status, origin, body), permanent: false, retryAfter: retryAfter)
        }
    }

    /// "HTTP 400 from https://api.example.com: {"error":"invalid number"}": the status and the start of the body,
    /// which is where providers explain a refusal.
    private func failure(_ status: Int, _ origin: String, _ body: Data) -> String {
        let text = excerpt(String(decoding: body, as: UTF8.self))
        return text.isEmpty ? "HTTP \(status) from \(origin)" : "HTTP \(status) from \(origin): \(text)"
    }

    private func header(_ name: String, in headers: [HTTPHeader]) -> String? {
        headers.last { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// The provider's id for the message: the configured JSON field if the body has it, else the configured header.
    func messageID(headers: [HTTPHeader], body: Data) -> String? {
        if let path = messageIDJSONField, !body.isEmpty,
            var value = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
        {
            for key in path.split(separator: ".") {
                guard let object = value as? [String: Any], let next = object[String(key)] else {
                    return fromHeader(headers)
                }
                value = next
            }
            if let text = value as? String, !text.isEmpty { return text }
            if let number = value as? NSNumber { return number.stringValue }
        }
        return fromHeader(headers)
    }

    private func fromHeader(_ headers: [HTTPHeader]) -> String? {
        guard let name = messageIDHeader, let value = header(name, in: headers), !value.isEmpty else { return nil }
        return value
    }

    /// Parses `Retry-After`: delta-seconds ("7") or an HTTP-date, in any of the three forms RFC 9110 allows a
    /// recipient to accept. A date in the past means "now" (zero); text that is neither gives nil.
    static func retryAfter(_ value: String, now: Date) -> Duration? {
        // asctime pads the day with a space ("Nov  6"); one space between words suits every format below.
        let value = value.split(separator: " ").joined(separator: " ")
        if let seconds = Int(value) { return seconds >= 0 ? .seconds(seconds) : nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        // IMF-fixdate, then the obsolete RFC 850 and asctime forms.
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: value) {
                return .milliseconds(max(0, Int((date.timeIntervalSince(now) * 1000).rounded())))
            }
        }
        return nil
    }
}
