import Foundation

/// A phone number in E.164 form: "+", the country calling code and the national number, 8 to 15 digits in all.
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number as "+" followed by digits, e.g. "+351912345678".
    public let e164: String

    /// Normalises a number as people write it: spaces, dashes, dots and parentheses are ignored; "+" or "00" starts
    /// an international number (and "011" does too when the default country is NANP, "1"); "(0)" after the country
    /// code is the trunk prefix some people write in international form. A national number needs
    /// `defaultCountryCode` (digits, e.g. "351", "39", "44", "1"), and loses its trunk prefix where the country
    /// dials one: 0 in most of Europe, 1 in NANP; none in Portugal, and Italy keeps its leading 0 after +39.
    public init(_ raw: String, defaultCountryCode: String? = nil) throws(PhoneNumberError) {
        if let defaultCountryCode { _ = try Self.checkCountryCode(defaultCountryCode) }
        if let number = Self.alreadyE164(raw) {
            e164 = number
        } else {
            e164 = try Self.normalise(raw, defaultCountryCode: defaultCountryCode)
        }
    }

    /// The number itself when it is already what `normalise` makes of it: "+" and 8 to 15 ASCII digits, the first
    /// not 0, with nothing to remove (no leading 0 after a country code whose trunk prefix is 0) and a national
    /// number its country's plan accepts. Stored numbers are mostly in this form (the importer stores what the file
    /// gives; it does not normalise them), and reading them character by character cost a fifth of rendering an SMS.
    /// Nil for anything else, which `normalise` then handles.
    static func alreadyE164(_ raw: String) -> String? {
        var raw = raw
        let plain = raw.withUTF8 { bytes in
            guard (9...16).contains(bytes.count), bytes[0] == UInt8(ascii: "+"), bytes[1] != UInt8(ascii: "0"),
                bytes.dropFirst().allSatisfy({ $0 &- UInt8(ascii: "0") < 10 })
            else { return false }
            let digits = bytes.dropFirst()
            guard let plan = NumberingPlan.known(prefixingDigits: digits) else { return true }
            let national = digits.dropFirst(plan.code.utf8.count)
            if plan.trunkPrefix == "0" && national.first == UInt8(ascii: "0") { return false }
            return plan.accepts(national)
        }
        return plain ? raw : nil
    }

    /// The general path: any way people write a number (see `init`).
    static func normalise(_ raw: String, defaultCountryCode: String?) throws(PhoneNumberError) -> String {
        var defaultCode: String?
        if let defaultCountryCode { defaultCode = try Self.checkCountryCode(defaultCountryCode) }
        var (digits, plus, marker) = try Self.scan(raw)

        var international = plus
        for prefix in defaultCode == "1" ? ["00", "011"] : ["00"] where !international && digits.hasPrefix(prefix) {
            international = true
            digits.removeFirst(prefix.count)
            marker = marker.map { $0 - prefix.count }
        }

        let countryCode: String
        var national: String
        if international {
            guard let first = digits.first else {
                throw PhoneNumberError(.tooShort, "The phone number has no digits after the international prefix.")
            }
            guard first != "0" else {
                throw PhoneNumberError(
                    .invalidCountryCode,
                    "The phone number's country calling code starts with 0; no country code does.")
            }
            let plan = NumberingPlan.known(prefixing: digits)
            if let marker, marker > 0, plan?.keepsLeadingZero != true {
                digits.remove(at: digits.index(digits.startIndex, offsetBy: marker))
            }
            countryCode = plan?.code ?? ""
            national = String(digits.dropFirst(countryCode.count))
            if let plan, plan.trunkPrefix == "0", national.hasPrefix("0") {
                // "+44 020..." is a common slip: a UK number never starts with 0 after the country code.
                national.removeFirst()
            }
        } else {
            guard let code = defaultCode else {
                throw PhoneNumberError(
                    .missingCountryCode,
                    "The phone number has no country calling code; write it with + or 00, or configure the default "
                        + "country calling code.")
            }
            countryCode = code
            national = digits
            // NANP's trunk prefix is a 1 before the ten digits, and an area code never starts with 1, so the count
            // tells the two apart; elsewhere a leading 0 is the trunk prefix wherever the country dials one.
            let shortest = NumberingPlan.plans[code]?.lengths.lowerBound ?? 1
            if let trunk = NumberingPlan.trunkPrefix(of: code), national.hasPrefix(trunk),
                national.count - trunk.count >= shortest
            {
                national.removeFirst(trunk.count)
            }
        }

        let total = countryCode.count + national.count
        if total < 8 {
            throw PhoneNumberError(.tooShort, "The phone number has \(total) digits; E.164 needs at least 8.")
        }
        if total > 15 {
            throw PhoneNumberError(.tooLong, "The phone number has \(total) digits; E.164 allows at most 15.")
        }
        if let plan = NumberingPlan.plans[countryCode] { try plan.check(national) }
        return "+" + countryCode + national
    }

    /// The digits, whether a "+" led them, and where a "(0)" trunk marker stood (as an index into the digits, which
    /// include its 0). Rejects anything but digits and the separators people write.
    private static func scan(_ raw: String) throws(PhoneNumberError) -> (digits: String, plus: Bool, marker: Int?) {
        let trimmed = Blank.trimmed(raw, .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw PhoneNumberError(.empty, "The phone number is empty.") }
        if let scanned = scanPlain(trimmed) { return scanned }
        var digits = ""
        var plus = false
        var marker: Int?
        var rest = Substring(trimmed)
        while let ch = rest.first {
            if marker == nil, !digits.isEmpty, rest.hasPrefix("(0)") {
                marker = digits.count
            }
            rest = rest.dropFirst()
            if ch.isASCII, ch.isWholeNumber {
                digits.append(ch)
            } else if ch == "+", digits.isEmpty, !plus {
                plus = true
            } else if ch.isWhitespace || "-.()".contains(ch) {
                continue
            } else if ch.isLetter {
                throw PhoneNumberError(
                    .letters,
                    "The phone number contains letters; only digits, spaces, dashes, dots, parentheses and a leading + "
                        + "are allowed.")
            } else {
                throw PhoneNumberError(
                    .invalidCharacter,
                    "The phone number contains \"\(ch)\"; only digits, spaces, dashes, dots, parentheses and a leading "
                        + "+ are allowed.")
            }
        }
        return (digits, plus, marker)
    }

    /// `scan` for the usual number, made only of ASCII digits, separators and a leading "+", read as bytes (in
    /// ASCII each character is one byte); nil for anything else, which `scan` reads character by character.
    private static func scanPlain(_ trimmed: String) -> (digits: String, plus: Bool, marker: Int?)? {
        var digits: [UInt8] = []
        digits.reserveCapacity(16)
        var plus = false
        var marker: Int?
        let bytes = Array(trimmed.utf8)
        for (index, byte) in bytes.enumerated() {
            if marker == nil, !digits.isEmpty, bytes[index...].starts(with: "(0)".utf8) {
                marker = digits.count
            }
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits.append(byte)
            case UInt8(ascii: "+") where digits.isEmpty && !plus: plus = true
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"): continue
            default: return nil
            }
        }
        return (String(decoding: digits, as: UTF8.self), plus, marker)
    }

    public var description: String { e164 }

    private static func checkCountryCode(_ code: String) throws(PhoneNumberError) -> String {
        let digits = code.hasPrefix("+") ? String(code.dropFirst()) : code
        guard (1...3).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isWholeNumber }),
            digits.first != "0"
        else {
            throw PhoneNumberError(
                .invalidCountryCode,
                "The default country calling code \"\(code)\" is not 1 to 3 digits without a leading 0.")
        }
        return digits
    }
}

/// A phone number that could not be normalised. The message names the problem but never repeats the number, so it
/// can be logged and stored with the suppression without spreading personal data.
public struct PhoneNumberError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong. New codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ description: String) { self.description = description }

        public static let empty = Code("empty")
        public static let letters = Code("letters")
        public static let invalidCharacter = Code("invalid_character")
        public static let missingCountryCode = Code("missing_country_code")
        public static let invalidCountryCode = Code("invalid_country_code")
        public static let tooShort = Code("too_short")
        public static let tooLong = Code("too_long")
        /// Right length, but not a number that country's plan allows (e.g. a NANP area code starting with 0 or 1).
        public static let notInPlan = Code("not_in_plan")
    }

    public let code: Code
    public let message: String
    public var description: String { message }

    /// The suppression reason recorded when a send's recipient number is unusable.
    public static let reason = "invalid_phone"

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// What Ciclo knows of a country's numbering: its trunk prefix and the length of its national significant numbers.
/// Countries not listed get only the E.164 length check, and lose a national leading 0 unless listed as having none.
private struct NumberingPlan {
    var code: String
    var name: String
    var trunkPrefix: String?
    var keepsLeadingZero = false
    var lengths: ClosedRange<Int>

    static let plans: [String: NumberingPlan] = [
        "1": NumberingPlan(code: "1", name: "NANP", trunkPrefix: "1", lengths: 10...10),
        "44": NumberingPlan(code: "44", name: "the UK", trunkPrefix: "0", lengths: 7...10),
        "351": NumberingPlan(code: "351", name: "Portugal", trunkPrefix: nil, lengths: 9...9),
        "34": NumberingPlan(code: "34", name: "Spain", trunkPrefix: nil, lengths: 9...9),
        // Italy and San Marino dial the leading 0 of fixed lines from abroad too: it is part of the number.
        "39": NumberingPlan(code: "39", name: "Italy", trunkPrefix: nil, keepsLeadingZero: true, lengths: 6...11),
        "378": NumberingPlan(
            code: "378", name: "San Marino", trunkPrefix: nil, keepsLeadingZero: true, lengths: 6...12),
    ]

    /// Countries outside `plans` that have no trunk prefix, so a national leading 0 is part of the number.
    static let withoutTrunkPrefix: Set<String> = [
        "30", "45", "47", "48", "65", "352", "354", "356", "357", "371", "372", "420", "852", "853", "974",
    ]

    static func trunkPrefix(of code: String) -> String? {
        if let plan = plans[code] { return plan.trunkPrefix }
        return withoutTrunkPrefix.contains(code) ? nil : "0"
    }

    /// The listed country whose code the international digits start with. Country codes are prefix-free, so at
    /// most one matches. An unlisted code stays with the rest of the digits, which are kept as written either way.
    static func known(prefixing digits: String) -> NumberingPlan? {
        var digits = digits
        return digits.withUTF8 { known(prefixingDigits: $0[...]) }
    }

    /// The plans by their code as a number, for `known(prefixingDigits:)`.
    static let byNumber = Dictionary(uniqueKeysWithValues: plans.values.map { (Int($0.code)!, $0) })

    /// `known(prefixing:)` for ASCII digits that do not start with 0: the code's value, one to three digits long.
    static func known(prefixingDigits digits: Slice<UnsafeBufferPointer<UInt8>>) -> NumberingPlan? {
        var code = 0
        for digit in digits.prefix(3) {
            code = code * 10 + Int(digit &- UInt8(ascii: "0"))
            if let plan = byNumber[code] { return plan }
        }
        return nil
    }

    /// Whether `check` passes these national digits (ASCII).
    func accepts(_ national: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        guard lengths.contains(national.count) else { return false }
        guard code == "1" else { return true }
        let first = national.startIndex
        return national[first] >= UInt8(ascii: "2") && national[first + 3] >= UInt8(ascii: "2")
    }

    func check(_ national: String) throws(PhoneNumberError) {
        if national.count < lengths.lowerBound {
            throw PhoneNumberError(
                .tooShort,
                "The phone number has \(national.count) digits after the country code; numbers in \(name) have at "
                    + "least \(lengths.lowerBound).")
        }
        if national.count > lengths.upperBound {
            throw PhoneNumberError(
                .tooLong,
                "The phone number has \(national.count) digits after the country code; numbers in \(name) have at most "
                    + "\(lengths.upperBound).")
        }
        if code == "1" {
            let digits = Array(national)
            guard digits[0] >= "2", digits[3] >= "2" else {
                throw PhoneNumberError(
                    .notInPlan,
                    "The phone number is not a valid NANP number: its area code and exchange must start with 2 to 9.")
            }
        }
    }
}
