/// Tells machine opens and clicks from people's, so they are kept but reported apart and never inflate the open
/// rate or the click-through rate. The rules, all in this one place:
///
/// - **Mail privacy and image proxies** fetch every image of a message, read or not: Gmail (`GoogleImageProxy`,
///   via ggpht.com), Yahoo (`YahooMailProxy`), and Apple Mail Privacy Protection, whose prefetches send the bare
///   user agent `Mozilla/5.0`. An open or click from one is a machine's.
/// - **Link scanners** (mail security gateways, URL checkers, preview bots) follow links to vet them: known
///   scanner and automation user agents; `HEAD` requests, which no browser sends for a click; a click within
///   `clickWindow` of the delivery, sooner than anyone reads; and no user agent at all.
///
/// Matching is by case-insensitive substring of the User-Agent header.
public struct MachineRules: Sendable {
    /// A click this soon after the send was delivered is a scanner's.
    public var clickWindow: Duration

    public init(clickWindow: Duration = .seconds(10)) {
        self.clickWindow = clickWindow
    }

    /// Why a request was taken for a machine's; stored with the response.
    public enum Reason: String, Sendable {
        case privacyProxy = "privacy_proxy"
        case scanner = "link_scanner"
        case headRequest = "head_request"
        case tooSoonAfterDelivery = "soon_after_delivery"
        case noUserAgent = "no_user_agent"
    }

    public enum Kind: Sendable { case open, click }

    static let privacyProxies = ["googleimageproxy", "ggpht.com", "yahoomailproxy"]
    /// Apple Mail Privacy Protection's prefetch user agent, exactly.
    static let applePrivacyProxy = "Mozilla/5.0"
    static let scanners = [
        // Mail security gateways.
        "barracuda", "mimecast", "proofpoint", "symantec", "messagelabs", "trendmicro", "trend micro", "fireeye",
        "forcepoint", "sophos", "bitdefender", "ironport", "zscaler", "safelinks",
        // Automation and preview fetchers.
        "python-requests", "python-urllib", "curl/", "wget/", "go-http-client", "okhttp", "java/", "libwww-perl",
        "headlesschrome", "phantomjs", "bot", "crawler", "spider", "scanner", "preview",
    ]

    /// The reason an open or click is a machine's, or nil for a person's. `sinceDelivery` is the time between the
    /// send's delivery and this request, when the delivery is known.
    public func classify(_ kind: Kind, method: String, userAgent: String?, sinceDelivery: Duration?) -> Reason? {
        let agent = (userAgent ?? "").trimmingWhitespace
        if agent == Self.applePrivacyProxy { return .privacyProxy }
        let lowered = agent.lowercased()
        if Self.privacyProxies.contains(where: lowered.contains) { return .privacyProxy }
        if Self.scanners.contains(where: lowered.contains) { return .scanner }
        if method.uppercased() == "HEAD" { return .headRequest }
        if agent.isEmpty { return .noUserAgent }
        if kind == .click, let sinceDelivery, sinceDelivery < clickWindow { return .tooSoonAfterDelivery }
        return nil
    }
}

extension String {
    var trimmingWhitespace: String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return String(view)
    }
}
