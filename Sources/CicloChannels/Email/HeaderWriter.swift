/// Writes one header field, folding it into lines of at most 78 characters where the content allows (RFC 5322
/// 2.1.1) and never more than 998: a plain word longer than a folded line is sent as encoded-words, which can be cut,
/// and the words that cannot be cut (addresses, URIs, the Message-ID) are bounded well below 998.
///
/// Folding only ever happens before a word, at a space that the value has anyway, so unfolding gives the value back;
/// the writer never folds right after the field name, nor before an empty word (a line of only spaces is forbidden).
struct HeaderWriter {
    static let preferredLineLength = 78
    /// The longest word that cannot be cut (a URI): with a field name it still fits a 998-octet line.
    static let longestUncuttableWord = 900

    private var text: String
    private var lineLength: Int
    private var wordsOnLine = 0

    init(name: String) {
        text = name + ":"
        lineLength = text.utf8.count
    }

    /// The field with its final CRLF.
    var rendered: String { text + "\r\n" }

    /// Appends `word` after a space, first folding the line if the word would take it past 78 characters.
    mutating func word(_ word: String, foldable: Bool = true) {
        let needed = 1 + word.utf8.count
        if foldable && wordsOnLine > 0 && lineLength + needed > Self.preferredLineLength {
            fold()
        }
        text += " " + word
        lineLength += needed
        wordsOnLine += 1
    }

    /// Appends `value` as encoded-words, each sized to fit the current line.
    mutating func encoded(_ value: String) {
        var encoder = EncodedWord.Encoder(value)
        while !encoder.isFinished {
            var room = Self.preferredLineLength - lineLength - 1
            // Fold rather than cut the text for a short tail of a line, or cut a character cluster (an emoji with
            // its modifiers) that a fresh line would hold whole. A line that cannot hold any word must fold, even
            // right after the field name (legal: the field body may begin with folding white space).
            let needed = max(min(encoder.remainingLength, 40), encoder.nextCharacterLength)
            if (wordsOnLine > 0 && room < needed) || room < EncodedWord.minLength {
                fold()
                room = Self.preferredLineLength - 1
            }
            word(encoder.next(maxLength: min(room, EncodedWord.maxLength)), foldable: false)
        }
    }

    /// Unstructured text (Subject, extra headers): plain words stay readable, and each run of words that holds
    /// non-ASCII (or anything else a plain word cannot carry) becomes encoded-words, spaces included, because the
    /// space between two encoded-words is dropped when decoding.
    mutating func unstructured(_ value: String) {
        mixed(value) { token in token.utf8.allSatisfy { (0x21...0x7E).contains($0) || $0 == 0x09 } }
    }

    /// A display name (RFC 5322 phrase): a quoted-string when it is short ASCII with specials (`"Rossi, Giulia"`),
    /// otherwise atoms and encoded-words, as in unstructured text. Atoms stay plain so that a name is cut into
    /// several encoded-words only when a run of non-ASCII is longer than one word can hold: some parsers wrongly
    /// put a space between adjacent encoded-words in a phrase (CPython before gh-128110's fix, for one).
    mutating func phrase(_ name: String) {
        let tokens = name.split(separator: " ").map(String.init)
        let isPlainASCII = name.utf8.allSatisfy { (0x20...0x7E).contains($0) } && !name.contains("=?")
        if isPlainASCII && !tokens.allSatisfy(Self.isAtom) && name.utf8.count <= 60 {
            let escaped = name.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"")
            word("\"" + escaped + "\"")
        } else {
            mixed(name, isPlain: Self.isAtom)
        }
    }

    /// An address list: `Name <local@domain>, other@domain`.
    mutating func addresses(_ list: [EmailAddress]) {
        for (index, address) in list.enumerated() {
            let separator = index < list.count - 1 ? "," : ""
            if let name = address.displayName {
                phrase(name)
                word("<\(address.address)>" + separator)
            } else {
                word(address.address + separator)
            }
        }
    }

    private mutating func fold() {
        text += "\r\n"
        lineLength = 0
        wordsOnLine = 0
    }

    private static let atext = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~".utf8)

    private static func isAtom(_ token: String) -> Bool {
        token.utf8.allSatisfy(atext.contains)
    }

    /// Writes `value` word by word: tokens that `isPlain` accepts as they are, runs of the others as encoded-words.
    private mutating func mixed(_ value: String, isPlain: (String) -> Bool) {
        let tokens = value.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        let encode = Self.classify(tokens, isPlain: isPlain)
        var index = 0
        // Extra spaces (empty tokens) go in front of the next plain word, so that a fold never leaves them at the
        // end of a line or alone on one.
        var spaces = ""
        while index < tokens.count {
            if encode[index] {
                var end = index
                while end + 1 < tokens.count && encode[end + 1] { end += 1 }
                encoded(tokens[index...end].joined(separator: " "))
                index = end + 1
            } else if tokens[index].isEmpty {
                spaces += " "
                index += 1
            } else {
                word(spaces + tokens[index])
                spaces = ""
                index += 1
            }
        }
        if !spaces.isEmpty { word(String(spaces.dropLast()), foldable: false) }
    }

    /// Which tokens are sent encoded: those `isPlain` refuses, those that look like the start of an encoded-word,
    /// and those too long for a folded line (encoded-words can be cut; a plain word cannot). An empty token (from two
    /// spaces in a row) joins an encoded neighbour, so that its space is kept inside the encoded text rather than
    /// dropped between two encoded-words.
    private static func classify(_ tokens: [String], isPlain: (String) -> Bool) -> [Bool] {
        let needsEncoding = tokens.map { token in
            token.utf8.count > preferredLineLength - 1 || token.contains("=?") || !isPlain(token)
        }
        return tokens.indices.map { index in
            guard tokens[index].isEmpty else { return needsEncoding[index] }
            let left = tokens[..<index].lastIndex { !$0.isEmpty }
            let right = tokens[(index + 1)...].firstIndex { !$0.isEmpty }
            return (left.map { needsEncoding[$0] } ?? false) || (right.map { needsEncoding[$0] } ?? false)
        }
    }
}
