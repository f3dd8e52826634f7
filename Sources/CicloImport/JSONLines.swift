import Foundation

/// Reads a JSON Lines file one line at a time, in chunks, so memory stays bounded whatever the file's size.
struct JSONLinesReader {
    enum Line {
        /// A non-blank line and its number (1-based).
        case text(Int, Data)
        /// A line longer than `maxLineBytes`, skipped without being held in memory.
        case tooLong(Int)
    }

    static let chunkSize = 1 << 20
    /// A line past this is rejected rather than buffered: one runaway line must not take the process's memory.
    static let maxLineBytes = 16 << 20

    private let handle: FileHandle
    private let path: String
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanned = 0
    private var lineNumber = 0
    private var atEnd = false

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ImportError(.unreadable, "\(path) cannot be opened for reading.")
        }
        self.handle = handle
        self.path = path
    }

    mutating func next() throws -> Line? {
        while true {
            if let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                lineNumber += 1
                var end = newline
                if end > start && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = buffer[start..<end]
                start = newline + 1
                scanned = start
                if line.count > Self.maxLineBytes { return .tooLong(lineNumber) }
                if isBlank(line) { continue }
                return .text(lineNumber, Data(stripBOM(line)))
            }
            scanned = buffer.count
            if atEnd {
                guard start < buffer.count else { return nil }
                lineNumber += 1
                let line = buffer[start...]
                start = buffer.count
                if line.count > Self.maxLineBytes { return .tooLong(lineNumber) }
                return isBlank(line) ? nil : .text(lineNumber, Data(stripBOM(line)))
            }
            if buffer.count - start > Self.maxLineBytes {
                try skipRestOfLine()
                lineNumber += 1
                return .tooLong(lineNumber)
            }
            try fill()
        }
    }

    /// Drops what was consumed and appends the next chunk.
    private mutating func fill() throws {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            scanned -= start
            start = 0
        }
        let chunk: Data?
        do {
            chunk = try handle.read(upToCount: Self.chunkSize)
        } catch {
            throw ImportError(
                .unreadable, "\(path) could not be read past line \(lineNumber): \(error.localizedDescription).")
        }
        guard let chunk, !chunk.isEmpty else {
            atEnd = true
            return
        }
        buffer.append(contentsOf: chunk)
    }

    /// Discards bytes up to and including the next newline.
    private mutating func skipRestOfLine() throws {
        buffer.removeAll(keepingCapacity: true)
        start = 0
        scanned = 0
        while true {
            try fill()
            if atEnd { return }
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                start = newline + 1
                scanned = start
                return
            }
            buffer.removeAll(keepingCapacity: true)
        }
    }

    private func isBlank(_ line: ArraySlice<UInt8>) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    private func stripBOM(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.starts(with: [0xEF, 0xBB, 0xBF]) ? line.dropFirst(3) : line
    }
}

/// Helpers for values from `JSONSerialization`, which hands back Foundation types.
enum JSONValue {
    /// The line's JSON object, or a rejection saying why it is not one.
    static func object(_ data: Data) throws(RowRejection) -> [String: Any] {
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw RowRejection("is not valid JSON" + (detail.map { " (\($0))" } ?? ""))
        }
        guard let object = value as? [String: Any] else {
            throw RowRejection("is not a JSON object")
        }
        return object
    }

    /// A JSON boolean. `JSONSerialization` gives NSNumber for both numbers and booleans; booleans are the ones of
    /// Objective-C type `c`, so `1` is not taken for `true`.
    static func bool(_ value: Any) -> Bool? {
        if let number = value as? NSNumber { return isBoolean(number) ? number.boolValue : nil }
        return value as? Bool
    }

    /// A JSON number (not a boolean).
    static func number(_ value: Any) -> NSNumber? {
        guard let number = value as? NSNumber, !isBoolean(number) else { return nil }
        return number
    }

    /// A string, or an integer written as a number (ids often are), as text.
    static func identifier(_ value: Any) -> String? {
        if let text = value as? String { return text }
        guard let number = number(value), "qQilsILS".utf8.contains(UInt8(bitPattern: number.objCType.pointee))
        else { return nil }
        return number.stringValue
    }

    static func isNull(_ value: Any) -> Bool { value is NSNull }

    /// Whether a string anywhere in the value holds U+0000, which `jsonb` refuses (and which would abort the COPY).
    static func containsNUL(_ value: Any) -> Bool {
        switch value {
        case let text as String: return text.utf8.contains(0)
        case let array as [Any]: return array.contains(where: containsNUL)
        case let object as [String: Any]: return object.contains { $0.key.utf8.contains(0) || containsNUL($0.value) }
        default: return false
        }
    }

    /// The JSON type of a value, for messages.
    static func typeName(_ value: Any) -> String {
        if value is NSNull { return "null" }
        if bool(value) != nil { return "a boolean" }
        if number(value) != nil { return "a number" }
        if value is String { return "a string" }
        if value is [Any] { return "an array" }
        if value is [String: Any] { return "an object" }
        return "an unknown value"
    }

    private static func isBoolean(_ number: NSNumber) -> Bool {
        number.objCType.pointee == CChar(UInt8(ascii: "c"))
    }
}
