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

    /// The field so far, as bytes: the message is assembled from bytes, and appending to a `String` word by word
    /// cost more than the folding itself.
    private var text: [UInt8]
    private var lineLength: Int
    private var wordsOnLine = 0

    init(name: String) {
        text = []
        text.reserveCapacity(128)
        lineLength = 0
        restart(name: name)
    }

    /// Starts another field in the same storage: a message's headers need one writer, not one allocation each.
    mutating func restart(name: String) {
        text.removeAll(keepingCapacity: true)
        UTF8Text.append(name, to: &text)
        text.append(UInt8(ascii: ":"))
        lineLength = text.count
        wordsOnLine = 0
    }

    /// The field with its final CRLF.
    var rendered: String { String(decoding: text + [0x0D, 0x0A], as: UTF8.self) }

    /// Appends the field with its final CRLF to `out`.
    func write(to out: inout [UInt8]) {
        out.append(contentsOf: text)
        out.append(0x0D)
        out.append(0x0A)
    }

    /// Appends `word` after a space, first folding the line if the word would take it past 78 characters.
    mutating func word(_ word: String, foldable: Bool = true) {
        var word = word
        word.withUTF8 { self.word($0[...], foldable: foldable) }
    }

    /// Appends `spaces` spaces and `word`'s bytes after a space, as `word(_:foldable:)` does for their text.
    mutating func word(_ word: Slice<UnsafeBufferPointer<UInt8>>, spaces: Int = 0, foldable: Bool = true) {
        let needed = 1 + spaces + word.count
        if foldable && wordsOnLine > 0 && lineLength + needed > Self.preferredLineLength {
            fold()
        }
        text.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 1 + spaces))
        text.append(contentsOf: UnsafeBufferPointer(rebasing: word))
        lineLength += needed
        wordsOnLine += 1
    }

    /// `word(before + value + after)` without building the string.
    mutating func word(_ value: String, before: StaticString, after: StaticString) {
        let needed = 1 + before.utf8CodeUnitCount + value.utf8.count + after.utf8CodeUnitCount
        if wordsOnLine > 0 && lineLength + needed > Self.preferredLineLength { fold() }
        text.append(UInt8(ascii: " "))
        before.withUTF8Buffer { text.append(contentsOf: $0) }
        UTF8Text.append(value, to: &text)
        after.withUTF8Buffer { text.append(contentsOf: $0) }
        lineLength += needed
        wordsOnLine += 1
    }

    /// Appends `value` as encoded-words, each sized to fit the current line.
    mutating func encoded(_ value: String) {
        encoded(EncodedWord.Encoder(value))
    }

    private mutating func encoded(_ encoder: EncodedWord.Encoder) {
        var encoder = encoder
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
            // A word that is never folded before, written in place.
            text.append(UInt8(ascii: " "))
            let start = text.count
            encoder.next(maxLength: min(room, EncodedWord.maxLength), into: &text)
            lineLength += 1 + text.count - start
            wordsOnLine += 1
        }
    }

    /// Unstructured text (Subject, extra headers): plain words stay readable, and each run of words that holds
    /// non-ASCII (or anything else a plain word cannot carry) becomes encoded-words, spaces included, because the
    /// space between two encoded-words is dropped when decoding.
    mutating func unstructured(_ value: String) {
        mixed(value) { token in token.allSatisfy { (0x21...0x7E).contains($0) || $0 == 0x09 } }
    }

    /// A display name (RFC 5322 phrase): a quoted-string when it is short ASCII with specials (`"Rossi, Giulia"`),
    /// otherwise atoms and encoded-words, as in unstructured text. Atoms stay plain so that a name is cut into
    /// several encoded-words only when a run of non-ASCII is longer than one word can hold: some parsers wrongly
    /// put a space between adjacent encoded-words in a phrase (CPython before gh-128110's fix, for one).
    mutating func phrase(_ name: String) {
        let isPlainASCII = name.utf8.allSatisfy { (0x20...0x7E).contains($0) } && !Self.containsEncodedWordStart(name)
        if isPlainASCII && !name.utf8.split(separator: UInt8(ascii: " ")).allSatisfy(Self.isAtom)
            && name.utf8.count <= 60
        {
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
            let isLast = index == list.count - 1
            if let name = address.displayName {
                phrase(name)
                word(address.address, before: "<", after: isLast ? ">" : ">,")
            } else {
                word(address.address, before: "", after: isLast ? "" : ",")
            }
        }
    }

    private mutating func fold() {
        text.append(0x0D)
        text.append(0x0A)
        lineLength = 0
        wordsOnLine = 0
    }

    /// RFC 5322 atext, as a table indexed by byte.
    private static let atext: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~".utf8 {
            table[Int(byte)] = true
        }
        return table
    }()

    private static func isAtom(_ token: some Collection<UInt8>) -> Bool {
        let atext = Self.atext
        return token.allSatisfy { atext[Int($0)] }
    }

    /// `value.contains("=?")`, Foundation's search, which compares characters (so "=?" followed by a combining
    /// mark does not count), asked only when it can matter: no decomposition holds a "?", so without a "?" byte
    /// there is no match, and in ASCII text characters are bytes.
    private static func containsEncodedWordStart(_ value: String) -> Bool {
        guard value.utf8.contains(UInt8(ascii: "?")) else { return false }
        guard value.utf8.allSatisfy({ $0 < 0x80 }) else { return value.contains("=?") }
        return UTF8Text.containsPair(value, UInt8(ascii: "="), UInt8(ascii: "?"))
    }

    /// Writes `value` word by word: tokens that `isPlain` accepts as they are, runs of the others as encoded-words.
    /// Tokens are byte ranges of the value, written from its bytes: no word becomes a string of its own.
    private mutating func mixed(_ value: String, isPlain: (ArraySlice<UInt8>) -> Bool) {
        let bytes = Array(value.utf8)
        let tokens = UTF8Text.spaceSeparatedRanges(value, bytes: bytes)
        let encode = Self.classify(tokens, of: bytes, isPlain: isPlain)
        bytes.withUnsafeBufferPointer { bytes in
            var index = 0
            // Extra spaces (empty tokens) go in front of the next plain word, so that a fold never leaves them at
            // the end of a line or alone on one.
            var spaces = 0
            while index < tokens.count {
                if encode[index] {
                    var end = index
                    while end + 1 < tokens.count && encode[end + 1] { end += 1 }
                    // The run with the single spaces between its tokens: the value's own bytes.
                    encoded(EncodedWord.Encoder(bytes[tokens[index].lowerBound..<tokens[end].upperBound]))
                    index = end + 1
                } else if tokens[index].isEmpty {
                    spaces += 1
                    index += 1
                } else {
                    word(bytes[tokens[index]], spaces: spaces)
                    spaces = 0
                    index += 1
                }
            }
            if spaces > 0 { word(bytes[0..<0], spaces: spaces - 1, foldable: false) }
        }
    }

    /// Which tokens are sent encoded: those `isPlain` refuses, those that look like the start of an encoded-word,
    /// and those too long for a folded line (encoded-words can be cut; a plain word cannot). An empty token (from two
    /// spaces in a row) joins an encoded neighbour, so that its space is kept inside the encoded text rather than
    /// dropped between two encoded-words.
    private static func classify(
        _ tokens: [Range<Int>], of bytes: [UInt8], isPlain: (ArraySlice<UInt8>) -> Bool
    ) -> [Bool] {
        let needsEncoding = tokens.map { token in
            token.count > preferredLineLength - 1 || containsEncodedWordStart(bytes[token]) || !isPlain(bytes[token])
        }
        return tokens.indices.map { index in
            guard tokens[index].isEmpty else { return needsEncoding[index] }
            let left = tokens[..<index].lastIndex { !$0.isEmpty }
            let right = tokens[(index + 1)...].firstIndex { !$0.isEmpty }
            return (left.map { needsEncoding[$0] } ?? false) || (right.map { needsEncoding[$0] } ?? false)
        }
    }

    private static func containsEncodedWordStart(_ token: ArraySlice<UInt8>) -> Bool {
        guard token.contains(UInt8(ascii: "?")) else { return false }
        return containsEncodedWordStart(String(decoding: token, as: UTF8.self))
    }
}
