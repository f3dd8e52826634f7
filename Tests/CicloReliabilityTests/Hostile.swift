import CicloTestSupport
import Foundation
import PropertyBased

/// Inputs meant to break things: SQL injection in the shapes that have worked against real systems, quoting and
/// escaping characters, control and non-ASCII characters, and the syntax of each language under test.
enum Hostile {
    /// SQL injection attempts; each would change a statement's meaning if it were spliced into SQL text.
    static let injections = [
        "' OR '1'='1", "'; DROP TABLE customers; --", "\"; DELETE FROM send_jobs; --", "1; SELECT pg_sleep(10)",
        "x' UNION SELECT email FROM customers --", "'); TRUNCATE deliveries; --", "$1", "$$; DROP TABLE events; $$",
        "\\'; DROP TABLE campaigns; --", "%' OR 1=1 --", "admin'--", "E'\\x27'", "'||(SELECT current_user)||'",
        "1' AND (SELECT count(*) FROM pg_tables) > 0 --", "'::int --", "\u{2019}; DROP TABLE segments; --",
    ]

    /// Characters that quoting, escaping, encoding and parsing get wrong.
    static let awkward = [
        "", " ", "\t", "\n", "\r\n", "\"", "'", "`", "\\", ",", ";", ":", "#", "%", "&", "<", ">", "{", "}", "[", "]",
        "\u{0}", "\u{1b}", "\u{7f}", "\u{feff}", "é", "ç", "中文", "🎉", "\u{202e}", "-", "--", "*", "?", "|", "=",
        "null", "true", "1e309", "-0", "NaN", "99999999999999999999", "0x1F", "2026-02-30T25:61:00Z",
    ]

    /// One injection, awkward character or word.
    static func piece(_ words: [String]) -> Generator<String, AnySequence<Any>> {
        Gen<String?>.element(of: injections + awkward + words).map { $0 ?? "" }.eraseToAny()
    }

    /// A string of 0 to `count` pieces, each an injection, an awkward character or one of `words`.
    static func text(_ words: [String], count: ClosedRange<Int> = 0...8) -> Generator<String, AnySequence<Any>> {
        piece(words).array(of: count).map { $0.joined() }.eraseToAny()
    }

    /// Mutations of `valid`: pieces inserted, bytes removed or repeated, the text cut short, a field made huge.
    static func mutation(of valid: String, words: [String]) -> Generator<String, AnySequence<Any>> {
        let edit = Gen<Int>.int(in: 0...5)
        return zip(edit.array(of: 1...4), piece(words).array(of: 4), Gen<Int>.int(in: 0...10_000).array(of: 4)).map {
            edits, pieces, positions in
            var scalars = Array(valid.unicodeScalars)
            for (n, kind) in edits.enumerated() {
                let at = scalars.isEmpty ? 0 : positions[n] % (scalars.count + 1)
                switch kind {
                case 0, 1: scalars.insert(contentsOf: pieces[n].unicodeScalars, at: at)
                case 2: if at < scalars.count { scalars.remove(at: at) }
                case 3: scalars = Array(scalars.prefix(at))
                case 4: scalars.insert(contentsOf: String(repeating: "A", count: 70_000).unicodeScalars, at: at)
                default: if at < scalars.count { scalars.insert(scalars[at], at: at) }
                }
            }
            var text = String.UnicodeScalarView()
            text.append(contentsOf: scalars)
            return String(text)
        }.eraseToAny()
    }
}

/// `ciclo` run to its end, with a bound; `crashed` when a signal ended it (a trap, a segfault).
struct Finished {
    var status: Int32
    var crashed: Bool
    var stdout: String
    var stderr: String

    static func run(
        _ arguments: [String], url: String, environment: [String: String] = [:],
        timeout: Duration = .seconds(60)
    ) async throws -> Finished {
        let run = try CicloRun.start(arguments, url: url, environment: environment)
        defer { run.stop() }
        guard let status = await run.wait(timeout: timeout) else {
            return Finished(status: -1, crashed: true, stdout: run.stdout, stderr: "timed out: " + run.stderr)
        }
        return Finished(
            status: status, crashed: run.process.terminationReason == .uncaughtSignal,
            stdout: run.stdout, stderr: run.stderr)
    }

    /// The one-sentence error line `ciclo` prints for a refused input, or nil.
    var errorLine: String? {
        stderr.split(separator: "\n").first { $0.hasPrefix("ciclo: error: ") }.map(String.init)
    }
}
