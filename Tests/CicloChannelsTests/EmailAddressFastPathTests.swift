import Testing

@testable import CicloChannels

/// The one-pass reading of plain addresses must accept nothing the full parser refuses, and give the same parts.
@Suite struct EmailAddressFastPathTests {
    static let local64 = String(repeating: "a", count: 64)
    static let longDomain = (0..<4).map { _ in String(repeating: "d", count: 62) }.joined(separator: ".")

    @Test(arguments: [
        "maria@example.com", "Maria.Silva+promo@Example.COM", "a_b-c!#$%&'*+/=?^`{|}~@x.example", "\(local64)@x.io",
        "\(local64)a@x.io", "a..b@x.io", ".a@x.io", "a.@x.io", "a@x", "a@x.", "a@.x.io", "a@x..io", "a@-x.io",
        "a@x-.io", "a@1.2", "a@x.123", "a@b@x.io", "@x.io", "a@", "a@[192.0.2.1]", "\"q\"@x.io", " a@x.io", "a@x.io ",
        "a b@x.io", "josé@x.io", "a@café.example", "a@xn--caf-dma.example", "a\t@x.io", "a@x_y.io",
        "a@\(longDomain)", "abc@\(String(longDomain.dropFirst(2)))",
    ])
    func fastPathAgreesWithTheParser(address: String) {
        let full: (local: String, domain: String)?
        do { full = try EmailAddress.parse(address) } catch { full = nil }
        guard let fast = EmailAddress.plainParts(address) else { return }
        // Whatever the fast path accepts, the parser accepts with the same parts.
        #expect(full?.local == fast.local && full?.domain == fast.domain, "\(address)")
        #expect(full.map { $0.local + "@" + $0.domain } == fast.address, "\(address)")
    }

    @Test func theUsualAddressesTakeTheFastPath() {
        #expect(EmailAddress.plainParts("ana5@example.com")?.domain == "example.com")
        #expect(EmailAddress.plainParts("Maria.Silva+promo@Example.COM")?.domain == "example.com")
        #expect(EmailAddress.plainParts("Maria.Silva+promo@Example.COM")?.local == "Maria.Silva+promo")
    }
}
