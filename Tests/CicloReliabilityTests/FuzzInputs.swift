import Foundation
import PropertyBased

/// Generators of near-valid inputs: the grammar of each language with hostile values in its leaves, so the fuzzing
/// reaches past the first syntax check into the checks of meaning and into SQL.
enum FuzzInputs {
    static let words = [
        "Active", "gold", "email", "sms", "deposit", "amount", "tier", "score", "vip", "joined", "tags", "customer",
        "first_name", "offer_code", "2026-01-01", "Europe/Lisbon", "pt-BR", "10", "0", "-1", "1.5",
    ]

    /// Ints and hostile pieces, from which the builders below draw their choices.
    static let material = zip(Gen<Int>.int(in: 0...10_000).array(of: 24), Hostile.piece(words).array(of: 24))
        .eraseToAny()

    /// A segment file as JSON (which YAML reads): a random rule over every field and operator.
    static let segment = material.map { ints, pieces in
        var cursor = Cursor(ints: ints, pieces: pieces)
        let rule = cursor.rule(depth: 0)
        let object: [String: Any] = ["name": "fuzz-\(ints[0])", "rule": rule]
        return json(object)
    }.eraseToAny()

    /// A Mustache-like source: text, tags, sections and partials with hostile names.
    static let templateSource = material.map { ints, pieces in
        let tags = [
            "{{", "}}", "{{{", "}}}", "{{#", "{{/", "{{^", "{{>", "{{!", "{{&", "{{=<% %>=}}", "\n",
            "customer.first_name", "offer_code", "send.unsubscribe_url", "}}x{{", "{{offer_code}}",
            "{{#customer}}", "{{/customer}}", "{{customer.first_name}}",
        ]
        return zip(ints, pieces).map { n, piece in n % 3 == 0 ? piece : tags[n % tags.count] }.joined()
    }.eraseToAny()

    /// A campaign file as JSON with hostile values in its text fields and a fuzzed template.
    static let campaign = zip(material, templateSource).map { material, template in
        let (ints, pieces) = material
        let key = ints[1] % 3 == 0 ? pieces[1] : "fuzz-\(ints[0])"
        let object: [String: Any] = [
            "key": key, "name": pieces[2] + pieces[3], "kind": "adhoc", "channel": "webhook", "status": "active",
            "segment": ["stage": pieces[4]], "variables": ["offer_code": pieces[5]],
            "variants": [
                [
                    "name": ints[2] % 4 == 0 ? pieces[6] : "A",
                    "templates": [
                        "en": [
                            "body": template,
                            "variables": [["name": "customer.first_name", "default": pieces[7]], "offer_code"],
                        ] as [String: Any]
                    ],
                ] as [String: Any]
            ],
        ]
        return json(object)
    }.eraseToAny()

    /// The object as sorted-key JSON. A generator that builds something JSONSerialization refuses is a bug in the
    /// generator: it stops the run, rather than handing the code under test an empty input that then "passes".
    static func json(_ object: [String: Any]) -> String {
        do {
            return String(
                decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        } catch {
            fatalError("a fuzz generator built an object that is not JSON: \(error)\n\(object)")
        }
    }

    /// Reads choices off the generated material in turn.
    struct Cursor {
        var ints: [Int]
        var pieces: [String]
        var position = 0

        mutating func int() -> Int {
            position += 1
            return ints[position % ints.count]
        }

        mutating func piece() -> String {
            position += 1
            return pieces[position % pieces.count]
        }

        /// A leaf value: a hostile string, a number, a boolean, a list or null.
        mutating func value() -> Any {
            switch int() % 6 {
            case 0: return int() - 5000
            case 1: return int() % 2 == 0
            case 2: return [piece(), piece()]
            case 3: return NSNull()
            default: return piece()
            }
        }

        mutating func comparison() -> Any {
            let operators = ["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "contains", piece()]
            return int() % 3 == 0 ? value() : [operators[int() % operators.count]: value()]
        }

        mutating func rule(depth: Int) -> Any {
            let fields = [
                "stage", "persona", "locale", "timezone", "consent", "suppressed", "last_seen_days",
                "created_days",
            ]
            switch int() % (depth > 2 ? 6 : 9) {
            case 0: return [fields[int() % fields.count]: comparison()]
            case 1:
                return ["attribute": [["tier", "score", "vip", "joined", "tags", piece()][int() % 6]: comparison()]]
            case 2: return ["product": [["any", "all", "none", piece()][int() % 4]: [piece(), piece()]]]
            case 3:
                return [
                    "events": [
                        "kind": value(), "within_days": value(), "where": ["amount": comparison()],
                        "count": comparison(), "sum": ["field": piece(), "gte": value()],
                    ]
                ]
            case 4: return [piece(): value()]
            case 5: return value()
            case 6: return ["all": (0..<(int() % 3)).map { _ in rule(depth: depth + 1) }]
            case 7: return ["any": (0..<(int() % 3)).map { _ in rule(depth: depth + 1) }]
            default: return ["not": rule(depth: depth + 1)]
            }
        }
    }
}
