import CicloReporter
import Testing

/// The rules that tell machine opens and clicks from people's, case by case.
@Suite("Machine open and click rules")
struct MachineRulesTests {
    let rules = MachineRules(clickWindow: .seconds(10))
    static let iPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"

    @Test("mail privacy and image proxies", arguments: [
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
        "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
        "Mozilla/5.0",
    ])
    func proxies(_ agent: String) {
        #expect(rules.classify(.open, method: "GET", userAgent: agent, sinceDelivery: .seconds(3600)) == .privacyProxy)
        #expect(rules.classify(.click, method: "GET", userAgent: agent, sinceDelivery: .seconds(3600)) == .privacyProxy)
    }

    @Test("link scanners and automation", arguments: [
        "Barracuda Sentinel (EE)", "Mimecast URL Protect", "python-requests/2.31", "curl/8.5.0",
        "Mozilla/5.0 (compatible; bingbot/2.0)", "Mozilla/5.0 HeadlessChrome/120.0",
    ])
    func scanners(_ agent: String) {
        #expect(rules.classify(.click, method: "GET", userAgent: agent, sinceDelivery: .seconds(3600)) == .scanner)
    }

    @Test("HEAD requests, missing user agents and clicks seconds after delivery")
    func behaviour() {
        #expect(rules.classify(.click, method: "HEAD", userAgent: Self.iPhone, sinceDelivery: nil) == .headRequest)
        #expect(rules.classify(.open, method: "GET", userAgent: nil, sinceDelivery: nil) == .noUserAgent)
        #expect(rules.classify(.click, method: "GET", userAgent: "  ", sinceDelivery: nil) == .noUserAgent)
        #expect(rules.classify(.click, method: "GET", userAgent: Self.iPhone, sinceDelivery: .seconds(3))
            == .tooSoonAfterDelivery)
        // An open soon after delivery is a person reading at once: only clicks are timed.
        #expect(rules.classify(.open, method: "GET", userAgent: Self.iPhone, sinceDelivery: .seconds(3)) == nil)
    }

    @Test("people's opens and clicks are not flagged")
    func people() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"
        for agent in [Self.iPhone, chrome, "Microsoft Outlook 16.0.17328; Pro"] {
            #expect(rules.classify(.open, method: "GET", userAgent: agent, sinceDelivery: .seconds(30)) == nil)
            #expect(rules.classify(.click, method: "GET", userAgent: agent, sinceDelivery: .seconds(30)) == nil)
            #expect(rules.classify(.click, method: "GET", userAgent: agent, sinceDelivery: nil) == nil)
        }
        #expect(MachineRules(clickWindow: .zero).classify(
            .click, method: "GET", userAgent: Self.iPhone, sinceDelivery: .zero) == nil)
    }
}
