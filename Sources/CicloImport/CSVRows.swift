import CSV
import Foundation

/// A CSV file read record by record with CSV.swift, with the line each record starts on.
///
/// CSV.swift parses (quotes, doubled quotes, CRLF, a UTF-8 byte order mark) but does not count lines; a quoted
/// field may hold line breaks, so the line of the next record is this record's line plus one plus the breaks
/// inside its fields.
struct CSVRows {
    private let reader: CSVReader
    private let path: String
    private var nextLine = 1
    /// The header row's fields, trimmed.
    let header: [String]

    init(path: String) throws {
        self.path = path
        guard let stream = InputStream(fileAtPath: path) else {
            throw ImportError(.unreadable, "\(path) cannot be opened for reading.")
        }
        do {
            // Cells are trimmed below (`trimmedASCII`): CSV.swift's own trimming costs a Foundation call per cell.
            reader = try CSVReader(stream: stream, hasHeaderRow: false, trimFields: false)
        } catch {
            throw ImportError(.unreadable, "\(path) cannot be read.")
        }
        // Blank lines before the header are skipped like blank lines anywhere else.
        var header: [String]? = nil
        while let fields = reader.next() {
            let line = nextLine
            nextLine += 1 + Self.lineBreaks(in: fields)
            if fields == [""] { continue }
            guard !fields.contains(where: \.trimmedASCII.isEmpty) else {
                throw ImportError(.badFile, "\(path) line \(line): the header row has an empty column name.")
            }
            header = fields.map(\.trimmedASCII)
            break
        }
        try Self.checkDecoding(reader, path: path, line: nextLine)
        guard let header else {
            throw ImportError(.badFile, "\(path) is empty: a CSV import needs a header row naming its columns.")
        }
        self.header = header
    }

    /// The next record that is not a blank line, with the line it starts on.
    mutating func next() throws -> (line: Int, fields: [String])? {
        while let fields = reader.next() {
            let line = nextLine
            nextLine += 1 + Self.lineBreaks(in: fields)
            if fields == [""] { continue }
            return (line, fields.map(\.trimmedASCII))
        }
        try Self.checkDecoding(reader, path: path, line: nextLine)
        return nil
    }

    /// CSV.swift stops at bytes that are not UTF-8, or at a read error, and keeps the error aside; a file cut
    /// short must not pass as complete. (`cannotReadFile` is how it meets the end of a file stream on Linux, where
    /// the stream says it has bytes until a read returns none: that one is the normal end.)
    private static func checkDecoding(_ reader: CSVReader, path: String, line: Int) throws {
        switch reader.error {
        case nil, CSVError.cannotReadFile?:
            return
        case CSVError.unicodeDecoding?:
            throw ImportError(.badFile, "\(path) is not UTF-8 text (at or after line \(line)); convert it to UTF-8.")
        default:
            throw ImportError(.unreadable, "\(path) could not be read past line \(line).")
        }
    }

    /// Line breaks inside quoted fields: LF, CR LF and a lone CR each count once.
    private static func lineBreaks(in fields: [String]) -> Int {
        var count = 0
        for field in fields {
            var previousCR = false
            for byte in field.utf8 {
                if byte == UInt8(ascii: "\n") {
                    if !previousCR { count += 1 }
                    previousCR = false
                } else if byte == UInt8(ascii: "\r") {
                    count += 1
                    previousCR = true
                } else {
                    previousCR = false
                }
            }
        }
        return count
    }
}
