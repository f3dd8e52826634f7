import Foundation
import Testing

@testable import CicloChannels

/// `Base64.write`, the pointer encoder that MIME bodies and tokens use, against Foundation's encoder.
@Suite("Base64")
struct Base64Tests {
    @Test("every length from 0 to 200, standard and padded or URL-safe and unpadded, is what Foundation writes")
    func writeIsFoundations() {
        var generator = SystemRandomNumberGenerator()
        for count in 0...200 {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let reference = Data(bytes).base64EncodedString()
            let url = reference.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(Self.write(bytes, alphabet: Base64.standard, padded: true) == reference, "\(bytes)")
            #expect(Self.write(bytes, alphabet: Base64.url, padded: false) == url, "\(bytes)")
            #expect(Base64.length(of: count) == reference.utf8.count)
            #expect(Base64.length(of: count, padded: false) == url.utf8.count)
        }
    }

    static func write(_ bytes: [UInt8], alphabet: StaticString, padded: Bool) -> String {
        guard !bytes.isEmpty else { return "" }
        let length = Base64.length(of: bytes.count, padded: padded)
        return String(unsafeUninitializedCapacity: length) { out in
            bytes.withUnsafeBytes { source in
                out.baseAddress!.distance(
                    to: Base64.write(source, alphabet: alphabet, padded: padded, to: out.baseAddress!))
            }
        }
    }
}
