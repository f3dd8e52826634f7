import CicloChannels
import Testing

/// Addresses are checked before sending: good ones are accepted in every usual form, bad ones fail with a code that
/// names the problem and a sentence that does not quote the customer's address.
@Suite struct EmailAddressTests {
    @Test func theUsualFormsParse() throws {
        let bare = try EmailAddress("maria.silva+promo@example.com")
        #expect(bare.localPart == "maria.silva+promo" && bare.domain == "example.com" && bare.displayName == nil)
        #expect(try EmailAddress("<maria@example.com>").address == "maria@example.com")
        let named = try EmailAddress("Maria Silva <maria@Example.COM>")
        #expect(named.displayName == "Maria Silva" && named.address == "maria@example.com")
        let quoted = try EmailAddress(#""Rossi, \"Giulia\"" <giulia@example.it>"#)
        #expect(quoted.displayName == #"Rossi, "Giulia""#)
        #expect(try EmailAddress("  padded@example.com  ").address == "padded@example.com")
        #expect(try EmailAddress(address: "o'brien@example.ie", displayName: "  ").displayName == nil)
    }

    @Test(
        arguments: [
            ("josé@café.example", nil),
            ("user@café.example", "user@xn--caf-dma.example"),
            ("user@münchen.de", "user@xn--mnchen-3ya.de"),
            ("user@Bücher.example", "user@xn--bcher-kva.example"),
            ("user@例え.テスト", "user@xn--r8jz45g.xn--zckzah"),
            ("user@ＥＸＡＭＰＬＥ。com", "user@example.com"),
        ] as [(String, String?)])
    func internationalisedDomainsBecomeALabels(input: String, expected: String?) throws {
        if let expected {
            #expect(try EmailAddress(input).address == expected)
        } else {
            #expect(throws: EmailError.self) { try EmailAddress(input) }
        }
    }

    static let longLabel = "maria@" + String(repeating: "a", count: 64) + ".com"
    static let longLocalPart = String(repeating: "a", count: 65) + "@example.com"
    /// 60 + 1 + 199 octets: each part is within its own limit, the whole is not.
    static let longAddress =
        String(repeating: "a", count: 60) + "@"
        + Array(repeating: String(repeating: "b", count: 48), count: 4).joined(separator: ".") + ".com"

    @Test(
        arguments: [
            ("", .emptyAddress),
            ("   ", .emptyAddress),
            ("maria.example.com", .missingAtSign),
            ("@example.com", .invalidLocalPart),
            ("maria@", .invalidDomain),
            (".maria@example.com", .invalidLocalPart),
            ("maria.@example.com", .invalidLocalPart),
            ("ma..ria@example.com", .invalidLocalPart),
            ("ma(ria)@example.com", .invalidLocalPart),
            ("a@b@example.com", .invalidLocalPart),
            ("\"maria silva\"@example.com", .whitespace),
            ("\"maria\"@example.com", .invalidLocalPart),
            ("josé@example.com", .nonASCIILocalPart),
            ("maria silva@example.com", .whitespace),
            ("maria@exa mple.com", .whitespace),
            ("maria\t@example.com", .whitespace),
            ("maria\u{00A0}@example.com", .whitespace),
            ("maria\u{0}@example.com", .controlCharacter),
            ("maria\u{7F}@example.com", .controlCharacter),
            ("maria@example.com\r\nBcc: all@example.com", .headerInjection),
            ("maria@localhost", .invalidDomain),
            ("maria@example..com", .invalidDomain),
            ("maria@.example.com", .invalidDomain),
            ("maria@example.com.", .invalidDomain),
            ("maria@-example.com", .invalidDomain),
            ("maria@example-.com", .invalidDomain),
            ("maria@exa_mple.com", .invalidDomain),
            ("maria@[192.0.2.1]", .invalidDomain),
            ("maria@example.123", .invalidDomain),
            ("maria@🎉.example", .invalidDomain),
            (Self.longLabel, .invalidDomain),
            (Self.longLocalPart, .localPartTooLong),
            (Self.longAddress, .addressTooLong),
        ] as [(String, EmailError.Code)])
    func badAddressesFailWithACodeNamingTheProblem(input: String, code: EmailError.Code) {
        let error = #expect(throws: EmailError.self) { try EmailAddress(input) }
        #expect(error?.code == code)
        #expect(error?.isPermanent == true)
        if input.count > 3 { #expect(error?.description.contains(input) == false, "the sentence hides the address") }
    }

    @Test func errorsSayWhatIsWrongWithoutTheAddress() {
        do {
            _ = try EmailAddress("maria.silva@localhost")
            Issue.record("accepted a single-label domain")
        } catch {
            #expect(error.code == .invalidDomain)
            #expect(error.description.contains("no dot"))
            #expect(!error.description.contains("maria.silva"))
            #expect(error.debugDescription.contains("maria.silva@localhost"))
        }
    }

    @Test func displayNamesMayNotCarryLineBreaksOrControls() {
        #expect(throws: EmailError.self) {
            try EmailAddress(address: "a@example.com", displayName: "Eve\r\nBcc: x@y.z")
        }
        #expect(throws: EmailError.self) { try EmailAddress("Eve\nBcc: x@y.z <a@example.com>") }
        #expect(throws: EmailError.self) { try EmailAddress(address: "a@example.com", displayName: "Eve\u{1B}[31m") }
    }
}
