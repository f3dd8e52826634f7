/// Collects text as a browser lays it out: runs of white space become one space, block boundaries become line
/// breaks (at most a blank line), and nothing trails a line.
///
/// It takes and keeps UTF-8 bytes in a buffer of its own: appending to a `String` scalar by scalar, testing each
/// scalar's Unicode properties, and later appending to an `Array` word by word (a uniqueness check per call) were
/// most of the cost of the text version. Not copyable, so the buffer has exactly one owner, which frees it.
struct TextCollector: ~Copyable {
    private var buffer: UnsafeMutableBufferPointer<UInt8>
    /// The length of the text so far, in bytes.
    private(set) var count = 0
    private var pendingSpace = false
    private var pendingBreaks = 0

    init(capacity: Int) {
        buffer = .allocate(capacity: max(capacity, 64))
    }

    deinit { buffer.deallocate() }

    /// The text so far, as UTF-8.
    var bytes: [UInt8] { Array(UnsafeBufferPointer(rebasing: buffer[..<count])) }

    /// The text from byte offset `start` on.
    func string(from start: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<count]), as: UTF8.self)
    }

    mutating func append(_ string: String) {
        var string = string
        string.withUTF8 { append($0, 0..<$0.count, decodingEntities: false) }
    }

    /// Appends `bytes[range]`, decoding HTML character references when asked.
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, decodingEntities: Bool) {
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = bytes[index]
            if decodingEntities && byte == UInt8(ascii: "&"),
                let (scalar, next) = HTMLEntities.reference(in: bytes, at: index, limit: range.upperBound)
            {
                append(scalar)
                index = next
                continue
            }
            let runEnd = Self.visibleRun(bytes, from: index, to: range.upperBound, stopAtAmpersand: decodingEntities)
            if runEnd > index {
                // A run of visible characters, with the single spaces between them, is copied at once: collapsing
                // would leave it as it is. Only its first character may need a break or a space before it.
                startWord()
                put(UnsafeBufferPointer(rebasing: bytes[index..<runEnd]))
                index = runEnd
            } else {
                // White space or an invisible character: nothing to write, only a space to remember.
                if UTF8Text.isWhitespace(UTF8Text.scalar(in: bytes, at: index).value) { pendingSpace = count > 0 }
                index += UTF8Text.scalarLength(lead: byte)
            }
        }
    }

    /// The end of the run that starts at `start` of visible characters (neither white space nor invisible) and of
    /// single spaces each between two visible ASCII characters. An "&" ends it too when references are decoded
    /// (unless it starts the run: the caller found no reference there), so that the caller can try to read one.
    @inline(__always)
    private static func visibleRun(
        _ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, stopAtAmpersand: Bool
    ) -> Int {
        var index = start
        while index < end {
            let byte = bytes[index]
            if byte < 0x80 {
                if byte == UInt8(ascii: " ") && index > start && index + 1 < end && isPlainVisible(bytes[index + 1]) {
                    index += 2
                    continue
                }
                if UTF8Text.isWhitespace(UInt32(byte)) { break }
                if stopAtAmpersand && byte == UInt8(ascii: "&") && index > start { break }
                index += 1
            } else {
                let value = UTF8Text.scalar(in: bytes, at: index).value
                if UTF8Text.isWhitespace(value) || isInvisible(value) { break }
                index += UTF8Text.scalarLength(lead: byte)
            }
        }
        return index
    }

    /// ASCII that is neither white space nor an "&" (which may start a reference to white space).
    @inline(__always)
    private static func isPlainVisible(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x80 && byte != UInt8(ascii: "&")
    }

    private mutating func append(_ scalar: Unicode.Scalar) {
        if Self.isInvisible(scalar.value) { return }
        if UTF8Text.isWhitespace(scalar.value) {
            pendingSpace = count > 0
            return
        }
        startWord()
        var scalar = String(scalar)
        scalar.withUTF8 { put($0) }
    }

    /// Writes the break or the space that is pending before the next visible character.
    @inline(__always)
    private mutating func startWord() {
        if pendingBreaks > 0 {
            if count > 0 {
                for _ in 0..<pendingBreaks { put(UInt8(ascii: "\n")) }
            }
            pendingBreaks = 0
        } else if pendingSpace {
            put(UInt8(ascii: " "))
        }
        pendingSpace = false
    }

    @inline(__always)
    private mutating func put(_ byte: UInt8) {
        if count == buffer.count { grow(to: count + 1) }
        buffer[count] = byte
        count += 1
    }

    @inline(__always)
    private mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        if count + bytes.count > buffer.count { grow(to: count + bytes.count) }
        if bytes.count <= 16 {
            // Most runs are words; a plain loop beats a call to memmove for them.
            for byte in bytes {
                buffer[count] = byte
                count += 1
            }
        } else {
            UnsafeMutableRawPointer(buffer.baseAddress! + count).copyMemory(
                from: bytes.baseAddress!, byteCount: bytes.count)
            count += bytes.count
        }
    }

    private mutating func grow(to needed: Int) {
        let larger = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(needed, buffer.count * 2))
        _ = larger.initialize(fromContentsOf: buffer[..<count])
        buffer.deallocate()
        buffer = larger
    }

    /// Zero-width characters that email builders pad preheaders with; they only clutter the text version.
    @inline(__always)
    static func isInvisible(_ value: UInt32) -> Bool {
        switch value {
        case 0x200B, 0x200C, 0xFEFF, 0x00AD, 0x034F: true
        default: false
        }
    }

    /// Ends the line (1) or the paragraph (2) before the next text.
    mutating func lineBreak(_ count: Int) {
        pendingBreaks = max(pendingBreaks, count)
        pendingSpace = false
    }
}
