import CicloTestSupport
import Foundation
import Postgres

/// Figure 2: COPY of N rows into a regular (logged) table, our copyFrom against psql's \copy of the same rows.
struct CopyFigure {
    let target: BenchTarget
    let tools: ExternalTools
    let rowCount: Int
    /// Upper bound on each load; the client's producer loop checks it and aborts the COPY.
    let timeLimit: Duration
    let rounds: Int

    static let columns = "id, name, amount, created"
    static let clientTable = "bench_copy_client"
    static let psqlTable = "bench_copy_psql"

    struct Row: Sendable {
        var id: Int64
        var name: String
        var amount: Double
        var created: PostgresTimestamp
    }

    /// Deterministic rows: mixed-script names, some with tabs, backslashes (including a literal `\N`) and newlines,
    /// which COPY's text format must escape; amounts in cents; instants over two years with microseconds.
    static func makeRows(_ count: Int) -> [Row] {
        let firsts = ["Ana", "Bruno", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiroshi", "Ingrid", "José", "Kofi",
                      "Léa", "Mateus", "Nadia", "Ørjan", "Zoë"]
        let lasts = ["Silva", "O'Brien", "Müller", "Nakamura", "van der Berg", "Kowalski", "Okafor", "García",
                     "Smith", "Dubois", "Nguyễn"]
        var random = SplitMix64(seed: 20_240_601)
        let base: Int64 = 1_704_067_200_000_000  // 2024-01-01 00:00 UTC
        let span: UInt64 = 2 * 365 * 86_400 * 1_000_000
        var rows: [Row] = []
        rows.reserveCapacity(count)
        for i in 1...count {
            var name = firsts[Int(random.next() % UInt64(firsts.count))] + " "
                + lasts[Int(random.next() % UInt64(lasts.count))]
            if i % 7 == 0 { name += "\tVIP" }
            if i % 11 == 0 { name += " (C:\\exports\\\(i % 1000).csv)" }
            if i % 13 == 0 { name += " \\N" }
            if i % 101 == 0 { name += "\nsecond line" }
            let cents = Int64(random.next() % 10_000_000) - 1_000_000
            rows.append(Row(
                id: Int64(i), name: name, amount: Double(cents) / 100,
                created: PostgresTimestamp(microsecondsSinceUnixEpoch: base + Int64(random.next() % span))))
        }
        return rows
    }

    /// Writes the rows in COPY text format: the same `postgresText()` values the client sends, escaped the same
    /// way. Returns how long encoding and writing took.
    static func writeFile(_ rows: [Row], to url: URL) throws -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20 + 4096)
        func append(_ text: String) {
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                case UInt8(ascii: "\t"): buffer += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                case UInt8(ascii: "\n"): buffer += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case UInt8(ascii: "\r"): buffer += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                default: buffer.append(byte)
                }
            }
        }
        for row in rows {
            append(String(row.id))
            buffer.append(UInt8(ascii: "\t"))
            append(row.name)
            buffer.append(UInt8(ascii: "\t"))
            append(row.amount.postgresText() ?? "")
            buffer.append(UInt8(ascii: "\t"))
            append(row.created.postgresText() ?? "")
            buffer.append(UInt8(ascii: "\n"))
            if buffer.count >= 1 << 20 {
                try handle.write(contentsOf: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try handle.write(contentsOf: buffer)
        return clock.now - start
    }

    /// Time to turn every value into its text with `postgresText()`, as the client's writer does, with no
    /// escaping, buffering or I/O: the floor of the client's per-row cost.
    static func formattingOnly(_ rows: [Row]) throws -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        var bytes = 0
        for row in rows {
            let values: [any PostgresEncodable] = [row.id, row.name, row.amount, row.created]
            for value in values { bytes &+= try value.postgresText()?.utf8.count ?? 0 }
        }
        if bytes == 0 { throw BenchError("no text was formatted") }
        return clock.now - start
    }

    /// Time for `postgresText()` of the timestamptz column alone, the costliest of the four.
    static func timestampFormattingOnly(_ rows: [Row]) -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        var bytes = 0
        for row in rows { bytes &+= row.created.postgresText()?.utf8.count ?? 0 }
        return bytes > 0 ? clock.now - start : .zero
    }

    func runClient(_ rows: [Row]) async throws -> (rows: Int, elapsed: Duration) {
        let limit = timeLimit
        return try await target.withConnection("ciclo-bench-copy") { connection in
            let clock = ContinuousClock()
            let start = clock.now
            let deadline = start + limit
            let copied = try await connection.copyFrom("COPY \(Self.clientTable) (\(Self.columns)) FROM STDIN") { writer in
                for (index, row) in rows.enumerated() {
                    if index & 0x3FFF == 0 && clock.now > deadline {
                        throw BenchError("the client COPY passed its \(Int(limit.seconds)) s limit")
                    }
                    try writer.write([row.id, row.name, row.amount, row.created])
                }
            }
            return (copied, clock.now - start)
        }
    }

    func run(into table: inout ResultTable, admin: PostgresConnection) async throws {
        progress("2. COPY: generating \(rowCount) rows and the data file")
        let rows = Self.makeRows(rowCount)
        let file = tools.workDirectory.appendingPathComponent("copy_rows.txt")
        let encoding = try Self.writeFile(rows, to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let formatting = try Self.formattingOnly(rows)
        let timestamps = Self.timestampFormattingOnly(rows)
        let fileBytes = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        try await admin.executeScript("""
            DROP TABLE IF EXISTS \(Self.clientTable), \(Self.psqlTable);
            CREATE TABLE \(Self.clientTable) (id bigint, name text, amount float8, created timestamptz);
            CREATE TABLE \(Self.psqlTable) (LIKE \(Self.clientTable));
            """)
        // Alternating rounds into emptied tables; each side keeps its fastest load.
        var client: (rows: Int, elapsed: Duration)? = nil
        var reference: (rows: Int, elapsed: Duration)? = nil
        for round in 1...rounds {
            try await admin.executeScript("TRUNCATE \(Self.clientTable), \(Self.psqlTable)")
            await admin.settle()
            progress("2. COPY, round \(round)/\(rounds): ciclo client copyFrom")
            let ours = try await runClient(rows)
            if client == nil || ours.elapsed < client!.elapsed { client = ours }
            await admin.settle()
            progress("2. COPY, round \(round)/\(rounds): psql \\copy")
            let theirs = try await tools.psqlCopy(
                table: Self.psqlTable, columns: Self.columns, file: file.path, timeout: timeLimit)
            if reference == nil || theirs.elapsed < reference!.elapsed { reference = theirs }
        }
        guard let client, let reference else { return }
        progress("2. COPY: verifying both tables")
        let clientCount = try await admin.rowCount(Self.clientTable)
        let referenceCount = try await admin.rowCount(Self.psqlTable)
        let identical = try await checksum(Self.clientTable, admin) == checksum(Self.psqlTable, admin)
        let samples = try await checkSamples(rows, admin)

        table.section("2. COPY \(ResultTable.format(rowCount)) rows into a regular table  [reference: psql \\copy from a file]")
        table.row("rows/s (best round)", client: Double(client.rows) / client.elapsed.seconds,
                  reference: Double(reference.rows) / reference.elapsed.seconds)
        table.row("seconds (lower is better)", client: client.elapsed.seconds, reference: reference.elapsed.seconds, decimals: 2)
        table.row("rows reported by COPY", client: ResultTable.format(client.rows), reference: ResultTable.format(reference.rows))
        table.row("count(*) after the last load", client: ResultTable.format(clientCount), reference: ResultTable.format(referenceCount),
                  ratio: clientCount == rowCount && referenceCount == rowCount ? "ok" : "WRONG")
        table.row("tables identical (row checksum)", client: identical ? "yes" : "NO", reference: "",
                  ratio: identical ? "ok" : "WRONG")
        table.row("sample rows equal the Swift values", client: "\(samples.matched)/\(samples.checked)", reference: "",
                  ratio: samples.matched == samples.checked ? "ok" : "WRONG")
        table.row("postgresText() of every value alone, rows/s", client: Double(rowCount) / formatting.seconds, reference: nil)
        table.row("  of which timestamptz, s per million rows",
                  client: ResultTable.format(timestamps.seconds * 1e6 / Double(rowCount), decimals: 2), reference: "-")
        table.note("psql's time includes starting psql and connecting; it sends ready-made text, while the client")
        table.note("formats every value (the row above: formatting alone, no escaping or I/O). Writing the")
        table.note("\(ResultTable.format(Double(fileBytes) / 1_048_576, decimals: 1)) MiB file took "
            + "\(ResultTable.format(encoding.seconds, decimals: 2)) s in this process (not timed against anything).")
        if clientCount != rowCount || referenceCount != rowCount || !identical || samples.matched != samples.checked {
            throw BenchError("the COPY tables do not hold the expected rows (see the table above)")
        }
    }

    /// A content checksum over every row, independent of row order.
    private func checksum(_ name: String, _ admin: PostgresConnection) async throws -> Int {
        try await admin.query("SELECT coalesce(sum(hashtext(t::text)), 0) FROM \(name) t").scalar(Int.self)
    }

    /// Reads back rows that carry every escaped character and compares them with the values sent.
    private func checkSamples(_ rows: [Row], _ admin: PostgresConnection) async throws -> (checked: Int, matched: Int) {
        var checked = 0
        var matched = 0
        for id in [1, 7, 11, 13, 101, 1001, 101_101] where id <= rows.count {
            let expected = rows[id - 1]
            let stored = try await admin.query(
                "SELECT name, amount, created FROM \(Self.clientTable) WHERE id = $1", [id]
            ).single()
            checked += 1
            if try stored.decode(String.self, at: 0) == expected.name, try stored.decode(Double.self, at: 1) == expected.amount,
                try stored.decode(PostgresTimestamp.self, at: 2) == expected.created
            {
                matched += 1
            }
        }
        return (checked, matched)
    }
}
