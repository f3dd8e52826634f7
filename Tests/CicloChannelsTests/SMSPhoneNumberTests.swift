import CicloTestSupport
import Testing

@testable import CicloChannels

@Suite struct SMSPhoneNumberTests {
    @Test(
        arguments: [
            // Portugal: no trunk prefix.
            ("912 345 678", "351", "+351912345678"),
            ("+351 912 345 678", nil, "+351912345678"),
            ("00351 912-345-678", "44", "+351912345678"),
            ("(+351) 21.234.5678", nil, "+351212345678"),
            // Italy: the leading 0 of fixed lines stays after +39.
            ("06 1234 5678", "39", "+390612345678"),
            ("333 123 4567", "39", "+393331234567"),
            ("+39 06 1234 5678", nil, "+390612345678"),
            ("0039 333 1234567", "351", "+393331234567"),
            ("+39 (0)6 1234 5678", nil, "+390612345678"),
            // UK: trunk prefix 0 dropped, also when written as (0) or by mistake after +44.
            ("020 7946 0958", "44", "+442079460958"),
            ("07700 900123", "44", "+447700900123"),
            ("+44 (0)20 7946 0958", nil, "+442079460958"),
            ("+44 020 7946 0958", nil, "+442079460958"),
            ("0044 7700 900123", "1", "+447700900123"),
            // NANP: the trunk 1 before ten digits is dropped; 011 dials out.
            ("(212) 555-0123", "1", "+12125550123"),
            ("1-212-555-0123", "1", "+12125550123"),
            ("212.555.0123", "+1", "+12125550123"),
            ("+1 212 555 0123", nil, "+12125550123"),
            ("011 44 20 7946 0958", "1", "+442079460958"),
            // Elsewhere: E.164 length only, national trunk 0 dropped unless the country has none.
            ("030 1234567", "49", "+49301234567"),
            ("+81 3-1234-5678", nil, "+81312345678"),
        ] as [(String, String?, String)])
    func normalises(_ raw: String, _ country: String?, _ expected: String) throws {
        #expect(try PhoneNumber(raw, defaultCountryCode: country).e164 == expected)
    }

    @Test(
        arguments: [
            ("", "351", PhoneNumberError.Code.empty),
            ("   ", "351", .empty),
            ("91234567", "351", .tooShort),
            ("9123456789", "351", .tooLong),
            ("0912345678", "351", .tooLong),
            ("91234567a", "351", .letters),
            ("+39 12345", nil, .tooShort),
            ("333 123 45678 901", "39", .tooLong),
            ("0207", "44", .tooShort),
            ("07700 9001234", "44", .tooLong),
            ("555-0123", "1", .tooShort),
            ("(212) 555-01234", "1", .tooLong),
            ("123 555 0123", "1", .notInPlan),
            ("212 055 0123", "1", .notInPlan),
            ("1-800-FLOWERS", "1", .letters),
            ("+44 20 7946 0958 ext 12", nil, .letters),
            ("#31#912345678", "351", .invalidCharacter),
            ("912+345678", "351", .invalidCharacter),
            ("912345678", nil, .missingCountryCode),
            ("912345678", "abc", .invalidCountryCode),
            ("912345678", "3510", .invalidCountryCode),
            ("+0 123 4567 890", nil, .invalidCountryCode),
            ("+", nil, .tooShort),
            ("+1234567", nil, .tooShort),
            ("+8612345678901234", nil, .tooLong),
        ] as [(String, String?, PhoneNumberError.Code)])
    func rejects(_ raw: String, _ country: String?, _ code: PhoneNumberError.Code) {
        let error = #expect(throws: PhoneNumberError.self) {
            try PhoneNumber(raw, defaultCountryCode: country)
        }
        #expect(error?.code == code, "\(error?.message ?? "no error")")
        #expect(error?.message.isEmpty == false)
    }

    /// Numbers already in E.164 form skip the general reading; they must come out exactly as it would give them,
    /// and any it would change or refuse must go to it: random "+" and digits around every listed country code
    /// (a UK 0 after +44, NANP area codes from 0 to 9, lengths either side of each plan's), with and without a
    /// default country code.
    @Test func e164FastPathIsTheGeneralPath() {
        var random = SplitMix64(seed: 5)
        let prefixes = ["1", "44", "440", "351", "34", "39", "378", "30", "7", "86", "0", "2", "999", ""]
        var fast = 0
        for _ in 0..<20_000 {
            let prefix = prefixes[Int(random.next() % UInt64(prefixes.count))]
            let length = Int(random.next() % 17)
            let digits = (0..<length).map { _ in String(random.next() % 10) }.joined()
            let raw = "+" + prefix + digits
            if PhoneNumber.alreadyE164(raw) != nil { fast += 1 }
            for country in [nil, "351"] as [String?] {
                let general = Result { () throws(PhoneNumberError) in
                    try PhoneNumber.normalise(raw, defaultCountryCode: country)
                }
                let number = Result { () throws(PhoneNumberError) in
                    try PhoneNumber(raw, defaultCountryCode: country).e164
                }
                #expect(number == general, "\(raw)")
            }
        }
        #expect(fast > 2_000, "many generated numbers take the fast path")
        #expect(PhoneNumber.alreadyE164("+351912345678") == "+351912345678")
        #expect(PhoneNumber.alreadyE164("+44020712345678") == nil, "the UK's trunk 0 is removed by the general path")
        #expect(PhoneNumber.alreadyE164("+351 912 345 678") == nil)
        #expect(PhoneNumber.alreadyE164("+12125550123") == "+12125550123")
        #expect(PhoneNumber.alreadyE164("+11125550123") == nil, "a NANP area code cannot start with 1")
    }

    @Test func errorMessagesDoNotRepeatTheNumber() {
        let error = #expect(throws: PhoneNumberError.self) { try PhoneNumber("91234567", defaultCountryCode: "351") }
        #expect(error?.description.contains("91234567") == false)
        #expect(error?.description.contains("Portugal") == true)
        #expect(PhoneNumberError.reason == "invalid_phone")
    }
}
