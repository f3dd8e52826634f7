import CicloChannels
import Foundation
import Testing

@Suite struct SMSTransliterationTests {
    static let portuguese = "Olá Ana, a sua encomenda está a caminho! Promoção: 20% em calçado até domingo."
    static let italian =
        "Ciao Giulia, è arrivato il tuo sconto “VIP” — solo per te… Perché aspettare? Più risparmi così!"

    @Test func portugueseNeedsUCS2WithoutTransliteration() {
        let sms = SMSText(Self.portuguese)
        #expect(sms.encoding == .ucs2)
        #expect(sms.text == Self.portuguese)
        #expect(sms.segments == 2)  // 78 code units
    }

    @Test func portugueseBecomesGSM7WithTransliteration() {
        let sms = SMSText(Self.portuguese, transliterate: true)
        #expect(sms.encoding == .gsm7)
        // "até" keeps its é, which GSM-7 has; á, ã and ç lose their accents.
        #expect(sms.text == "Ola Ana, a sua encomenda esta a caminho! Promocao: 20% em calcado até domingo.")
        #expect(sms.segments == 1)
    }

    @Test func italianNeedsUCS2WithoutTransliteration() {
        let sms = SMSText(Self.italian)
        #expect(sms.encoding == .ucs2)
        #expect(sms.text == Self.italian)
    }

    @Test func italianBecomesGSM7WithTransliteration() {
        let sms = SMSText(Self.italian, transliterate: true)
        #expect(sms.encoding == .gsm7)
        #expect(
            sms.text
                == "Ciao Giulia, è arrivato il tuo sconto \"VIP\" - solo per te... Perché aspettare? Più risparmi così!"
        )
    }

    @Test func italianWithOnlyGSM7AccentsStaysGSM7WithoutTransliteration() {
        let text = "Ciao Marco, il tuo ordine è partito. Perché non dai un'occhiata alle novità? Ci vediamo lì."
        #expect(SMSText(text).encoding == .gsm7)
        #expect(SMSText(text).text == text)
    }

    @Test(arguments: [
        ("ã õ ç Ç ê â í ó ú ò", "a o c Ç e a i o u ò"),
        ("ÃÕÊÂÍÓÚÀ", "AOEAIOUA"),
        ("‘single’ “double” «guillemets»", "'single' \"double\" \"guillemets\""),
        ("a–b—c", "a-b-c"),
        ("wait…", "wait..."),
        ("10\u{00A0}€", "10 €"),
        ("œuvre Łódź", "oeuvre Lodz"),
    ])
    func transliterates(_ input: String, _ expected: String) {
        let sms = SMSText(input, transliterate: true)
        #expect(sms.text == expected)
        #expect(sms.encoding == .gsm7)
    }

    @Test func textThatStaysOutsideGSM7KeepsItsAccentsInUCS2() {
        let sms = SMSText("Olá, está tudo bem? 😀", transliterate: true)
        #expect(sms.encoding == .ucs2)
        #expect(sms.text == "Olá, está tudo bem? 😀")
    }

    @Test func longerTextIsSuppressedBeyondTheCampaignMaximum() throws {
        let to = try PhoneNumber("+351912345678")
        let composition = SMSMessage.compose(
            text: String(repeating: "a", count: 161), to: to, from: "Ciclo", policy: SMSPolicy(maxSegments: 1))
        #expect(composition == .tooLong(segments: 2, max: 1))
        #expect(composition.suppressionReason == "sms_too_long")
        #expect(composition.explanation?.contains("2 segments") == true)
    }

    @Test func transliterationCanBringATextWithinTheMaximum() throws {
        let to = try PhoneNumber("+351912345678")
        let text = String(repeating: "ã", count: 100)
        let strict = SMSMessage.compose(text: text, to: to, from: "Ciclo", policy: SMSPolicy(maxSegments: 1))
        #expect(strict == .tooLong(segments: 2, max: 1))
        let lenient = SMSMessage.compose(
            text: text, to: to, from: "Ciclo", policy: SMSPolicy(maxSegments: 1, allowsTransliteration: true))
        guard case .ready(let message) = lenient else {
            Issue.record("expected a ready message, got \(lenient)")
            return
        }
        #expect(message.encoding == .gsm7)
        #expect(message.segments == 1)
        #expect(message.text == String(repeating: "a", count: 100))
        #expect(lenient.suppressionReason == nil)
    }

    @Test func blankTextIsSuppressed() throws {
        let composition = SMSMessage.compose(
            text: " \n ", to: try PhoneNumber("+351912345678"), from: "Ciclo", policy: SMSPolicy())
        #expect(composition == .empty)
        #expect(composition.suppressionReason == "sms_empty")
    }
}
