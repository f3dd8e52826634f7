/// The rows a statement returned, copied out of libpq's result into Swift memory at once (the `PGresult` is
/// cleared before the call returns). Values sit in one contiguous buffer with an offset table.
public struct PostgresRows: Sendable, RandomAccessCollection {
    /// A result column: its name and type.
    public struct Column: Sendable, Hashable {
        public let name: String
        public let type: PostgresDataType
    }

    public let columns: [Column]
    /// The command tag, e.g. `INSERT 0 3` or `SELECT 2`.
    public let commandTag: String
    /// Rows inserted, updated, deleted, copied or selected, as the command tag reports them.
    public let affectedRows: Int
    let storage: [UInt8]
    /// Per cell, row-major: start offset into `storage` and length, or -1 for NULL.
    let cells: [(start: Int32, length: Int32)]
    let columnIndex: [String: Int]

    /// `cells` carries the same labels as the stored property: an array of unlabelled pairs would be converted
    /// element by element through a dynamic cast, on every result.
    init(
        columns: [Column], commandTag: String, affectedRows: Int, storage: [UInt8], cells: [(start: Int32, length: Int32)]
    ) {
        self.columns = columns
        self.commandTag = commandTag
        self.affectedRows = affectedRows
        self.storage = storage
        self.cells = cells
        var index: [String: Int] = [:]
        for (i, column) in columns.enumerated() where index[column.name] == nil { index[column.name] = i }
        self.columnIndex = index
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { columns.isEmpty ? 0 : cells.count / columns.count }
    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, index: position) }

    /// The only row, or an error when there is none or more than one.
    public func single() throws -> PostgresRow {
        guard count == 1 else {
            throw PostgresError(code: .decoding, message: "Expected exactly one row but the statement returned \(count)")
        }
        return self[0]
    }

    /// Reads the first column of the only row.
    public func scalar<T: PostgresDecodable>(_ type: T.Type = T.self) throws -> T {
        try single().decode(type, at: 0)
    }
}

/// One row of a result.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int

    public var columns: [PostgresRows.Column] { rows.columns }

    /// The cell at a column position.
    public subscript(column: Int) -> PostgresCell {
        let cell = rows.cells[index * rows.columns.count + column]
        let bytes: ArraySlice<UInt8>? =
            cell.length < 0 ? nil : rows.storage[Int(cell.start)..<Int(cell.start) + Int(cell.length)]
        return PostgresCell(type: rows.columns[column].type, columnName: rows.columns[column].name, bytes: bytes)
    }

    /// Reads the column at `column` as `type`.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at column: Int) throws -> T {
        guard column >= 0, column < rows.columns.count else {
            throw PostgresError(code: .decoding, message: "The result has no column \(column)")
        }
        return try T.decode(postgresCell: self[column])
    }

    /// Reads the column named `name` as `type`.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, named name: String) throws -> T {
        guard let column = rows.columnIndex[name] else {
            throw PostgresError(code: .decoding, message: "The result has no column named \"\(name)\"")
        }
        return try T.decode(postgresCell: self[column])
    }
}
