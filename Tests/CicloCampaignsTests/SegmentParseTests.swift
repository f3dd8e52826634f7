import CicloCampaigns
import Foundation
import Testing

/// The declared attributes every segment test uses.
let testCatalogue = AttributeCatalogue([
    "tier": .text, "country": .text, "score": .number, "vip": .boolean, "birthday": .date, "tags": .list,
])

func parseSegment(_ text: String, file: String = "rule.yaml") throws -> Segment {
    try Segment.parse(try ConfigNode.parse(text, file: file), catalogue: testCatalogue)
}

/// The ConfigError a rule raises, or nil when it parses.
func segmentError(_ text: String) -> ConfigError? {
    do {
        _ = try parseSegment(text)
        return nil
    } catch let error as ConfigError {
        return error
    } catch {
        return nil
    }
}

/// A rule using every field and operator shape of the language.
let everyFieldRule = """
    all:
      - stage: {in: [Active, At-risk]}
      - persona: b2c-bargain-hunter
      - locale: {not_in: [en]}
      - timezone: {exists: true}
      - attribute: {tier: {in: [gold, silver]}}
      - attribute: {score: {gte: 10, lt: 80.5}, vip: true}
      - attribute: {birthday: {gte: 1990-01-01}, tags: {contains: [vip, beta]}}
      - product: {any: [sportsbook, casino], none: [poker]}
      - consent: email
      - not: {suppressed: email}
      - events: {kind: deposit, within_days: 30, count: {gte: 2}}
      - events: {kind: [purchase, deposit], where: {category: casino, amount: {gt: 5}}, sum: {field: amount, gte: 100}}
      - last_seen_days: {gte: 14}
      - created_days: {in: [0, 1, 2]}
      - any:
          - not: {attribute: {country: {eq: IT}}}
          - attribute: {country: {exists: false}}
    """

@Suite("segment language: reading rules")
struct SegmentParseTests {
    @Test("the documented example and a rule using every field parse to what they say")
    func goodRules() throws {
        // Parsing without an error is not enough: each rule must read as written, shown by its canonical JSON
        // (shorthands written out, several fields of one mapping as `all`, operators in declaration order).
        let documented = try parseSegment(
            """
            all:
              - stage: {in: [Active, At-risk]}
              - persona: b2c-bargain-hunter
              - attribute: {tier: {in: [gold, silver]}}
              - product: {any: [sportsbook, casino]}
              - consent: email
              - events: {kind: deposit, within_days: 30, count: {gte: 1}}
              - last_seen_days: {gte: 14}
              - not: {attribute: {country: {eq: IT}}}
            """)
        #expect(
            documented.json
                == [
                    #"{"all":[{"stage":{"in":["Active","At-risk"]}},{"persona":{"eq":"b2c-bargain-hunter"}},"#,
                    #"{"attribute":{"tier":{"in":["gold","silver"]}}},{"product":{"any":["sportsbook","casino"]}},"#,
                    #"{"consent":"email"},{"events":{"kind":"deposit","within_days":30,"count":{"gte":1}}},"#,
                    #"{"last_seen_days":{"gte":14}},{"not":{"attribute":{"country":{"eq":"IT"}}}}]}"#,
                ].joined())
        #expect(
            try parseSegment(everyFieldRule).json
                == [
                    #"{"all":[{"stage":{"in":["Active","At-risk"]}},{"persona":{"eq":"b2c-bargain-hunter"}},"#,
                    #"{"locale":{"not_in":["en"]}},{"timezone":{"exists":true}},"#,
                    #"{"attribute":{"tier":{"in":["gold","silver"]}}},"#,
                    #"{"all":[{"attribute":{"score":{"gte":10,"lt":80.5}}},{"attribute":{"vip":{"eq":true}}}]},"#,
                    #"{"all":[{"attribute":{"birthday":{"gte":"1990-01-01"}}},"#,
                    #"{"attribute":{"tags":{"contains":["vip","beta"]}}}]},"#,
                    #"{"product":{"any":["sportsbook","casino"],"none":["poker"]}},"#,
                    #"{"consent":"email"},{"not":{"suppressed":"email"}},"#,
                    #"{"events":{"kind":"deposit","within_days":30,"count":{"gte":2}}},"#,
                    #"{"events":{"kind":["purchase","deposit"],"#,
                    #""where":{"all":[{"category":{"eq":"casino"}},{"amount":{"gt":5}}]},"#,
                    #""sum":{"field":"amount","gte":100}}},"#,
                    #"{"last_seen_days":{"gte":14}},{"created_days":{"in":[0,1,2]}},"#,
                    #"{"any":[{"not":{"attribute":{"country":{"eq":"IT"}}}},"#,
                    #"{"attribute":{"country":{"exists":false}}}]}]}"#,
                ].joined())
        #expect(
            try parseSegment(#"{"any": [{"stage": "Churned"}, {"events": {"kind": "login", "count": 0}}]}"#).json
                == #"{"any":[{"stage":{"eq":"Churned"}},{"events":{"kind":"login","count":{"eq":0}}}]}"#)
    }

    @Test("shorthands mean their written-out forms, in any operator order")
    func shorthands() throws {
        #expect(try parseSegment("stage: Active") == parseSegment("stage: {eq: Active}"))
        #expect(try parseSegment("stage: [Active, New]") == parseSegment("stage: {in: [Active, New]}"))
        #expect(
            try parseSegment("attribute: {score: {gte: 1, lt: 5}}")
                == parseSegment("attribute: {score: {lt: 5, gte: 1}}"))
        #expect(try parseSegment("attribute: {score: {gte: 100.0}}") == parseSegment("attribute: {score: {gte: 100}}"))
        #expect(try parseSegment("attribute: {tags: vip}") == parseSegment("attribute: {tags: {contains: [vip]}}"))
        #expect(try parseSegment("product: casino") == parseSegment("product: {any: [casino]}"))
        #expect(
            try parseSegment("events: {kind: deposit}") == parseSegment("events: {kind: [deposit], count: {gte: 1}}"))
        #expect(try parseSegment("{stage: Active, persona: p}") == parseSegment("all: [{stage: Active}, {persona: p}]"))
        // Text fields read YAML scalars as written: a persona `no` or `123` is text, not a boolean or a number.
        #expect(try parseSegment("persona: no").json == #"{"persona":{"eq":"no"}}"#)
        #expect(try parseSegment("persona: 123").json == #"{"persona":{"eq":"123"}}"#)
        #expect(try parseSegment("stage: Active") != parseSegment("stage: {ne: Active}"))
    }

    @Test("canonical JSON reads back to an equal segment and is stable")
    func canonicalJSON() throws {
        for rule in [
            everyFieldRule, "stage: Active", "not: {last_seen_days: {exists: false}}",
            "attribute: {score: {in: [1, 2.5, 1e-05]}}", #"persona: "quote \" and \\ and \n""#,
            "events: {kind: x, sum: {field: game.stake, lte: 0.25}}",
        ] {
            let segment = try parseSegment(rule)
            let again = try Segment.parse(
                try ConfigNode.parse(segment.json, file: "canonical"), catalogue: testCatalogue)
            #expect(again == segment, "\(rule) -> \(segment.json)")
            #expect(again.json == segment.json)
        }
        #expect(try parseSegment("stage: {in: [Active, At-risk]}").json == #"{"stage":{"in":["Active","At-risk"]}}"#)
        #expect(
            try parseSegment("events: {kind: deposit, within_days: 30}").json
                == #"{"events":{"kind":"deposit","within_days":30,"count":{"gte":1}}}"#)
    }

    @Test("bad rules are refused with the file, line, key path and the problem")
    func badRules() {
        let cases: [(rule: String, line: Int?, path: String, problem: String)] = [
            (
                "all:\n  - stage: Active\n  - stagee: Active", 3, "all[1]",
                #"unknown field "stagee"; expected one of: all, any"#
            ),
            (
                "stage: {like: Act}", 1, "stage.like",
                #"unknown operator "like"; expected one of: eq, ne, in, not_in, exists"#
            ),
            (
                "attribute: {tier: {gt: gold}}", 1, "attribute.tier.gt",
                #"operator "gt" does not apply to a text value; expected one of: eq, ne, in, not_in, exists"#
            ),
            ("attribute: {tags: {eq: vip}}", 1, "attribute.tags.eq", #"operator "eq" does not apply to a list"#),
            (
                "all:\n  - attribute:\n      tierr: gold", 3, "all[0].attribute.tierr",
                #"unknown attribute "tierr"; declared attributes: birthday, country, score, tags, tier, vip"#
            ),
            ("attribute: {score: {gte: high}}", 1, "attribute.score.gte", #"expected a number, found "high""#),
            (#"attribute: {score: {gte: "5"}}"#, 1, "attribute.score.gte", #"expected a number, found "5""#),
            ("attribute: {vip: maybe}", 1, "attribute.vip", #"expected true or false, found "maybe""#),
            (
                "attribute: {birthday: {gt: 2024-02-30}}", 1, "attribute.birthday.gt",
                #"expected a date written YYYY-MM-DD, found "2024-02-30""#
            ),
            ("last_seen_days: {gte: 1.5}", 1, "last_seen_days.gte", #"expected an integer, found "1.5""#),
            ("last_seen_days: {gte: -3}", 1, "last_seen_days", "days must be between 0 and 1000000"),
            ("created_days: {exists: true}", 1, "created_days.exists", #"operator "exists" does not apply"#),
            ("stage: {exists: yes}", 1, "stage.exists", #"expected true or false, found "yes""#),
            ("stage: {in: []}", 1, "stage.in", "in needs at least one value"),
            ("stage: {}", 1, "stage", "expected at least one operator"),
            ("stage: {in: [Active, {eq: x}]}", 1, "stage.in[1]", "expected a string, found a mapping"),
            ("consent: [email]", 1, "consent", "expected a string, found a list"),
            ("consent: ''", 1, "consent", "must not be empty"),
            ("all: []", 1, "all", "all needs at least one condition"),
            ("any: []", 1, "any", "any needs at least one condition"),
            ("not: [stage: Active]", 1, "not", "expected a mapping"),
            ("{}", 1, "", "a condition needs a field"),
            ("- stage: Active", 1, "", "expected a mapping"),
            ("product: {some: [casino]}", 1, "product", #"unknown field "some"; expected one of: all, any, none"#),
            ("product: {any: []}", 1, "product.any", "expected at least one product"),
            ("events: {within_days: 3}", 1, "events", #"missing required field "kind""#),
            (
                "events: {kind: deposit, within: 3}", 1, "events",
                #"unknown field "within"; expected one of: count, kind"#
            ),
            (
                "events: {kind: deposit, within_days: soon}", 1, "events.within_days",
                #"expected an integer, found "soon""#
            ),
            (
                "events: {kind: deposit, within_days: 0}", 1, "events.within_days",
                "within_days must be between 1 and 36500"
            ),
            ("events: {kind: deposit, count: {gte: 1.5}}", 1, "events.count.gte", "expected an integer"),
            (
                "events: {kind: deposit, count: {exists: true}}", 1, "events.count.exists",
                #"operator "exists" does not apply"#
            ),
            ("events: {kind: deposit, sum: {gte: 100}}", 1, "events.sum", #"missing required field "field""#),
            ("events: {kind: deposit, sum: {field: amount}}", 1, "events.sum", "expected at least one operator"),
            (
                "events: {kind: deposit, sum: {field: amount, contains: 3}}", 1, "events.sum.contains",
                #"operator "contains" does not apply to a number"#
            ),
            (
                "events: {kind: deposit, where: {amount: {in: [1, a]}}}", 1, "events.where.amount.in",
                "in needs values of one type"
            ),
            (
                "events: {kind: deposit, where: {amount: {gt: big}}}", 1, "events.where.amount.gt",
                #"gt compares numbers; found "big""#
            ),
            ("events: {kind: deposit, where: {}}", 1, "events.where", "a filter needs at least one payload field"),
            ("stage: [", nil, "", "not valid YAML or JSON"),
        ]
        for (rule, line, path, problem) in cases {
            guard let error = segmentError(rule) else {
                Issue.record("accepted: \(rule)")
                continue
            }
            #expect(error.file == "rule.yaml", "\(rule)")
            if let line { #expect(error.line == line, "\(rule): \(error)") }
            #expect(error.path == path, "\(rule): \(error)")
            #expect(error.problem.contains(problem), "\(rule): \(error)")
        }
    }

    @Test("the error sentence reads file:line: path: problem")
    func errorSentence() {
        let error = segmentError("all:\n  - stage: Active\n  - attribute: {tierr: gold}")
        #expect(
            error?.description == "rule.yaml:3: all[1].attribute.tierr: unknown attribute \"tierr\"; declared"
                + " attributes: birthday, country, score, tags, tier, vip")
        do {
            _ = try Segment.parse(try ConfigNode.parse("attribute: {tier: gold}", file: "f"), catalogue: .init())
            Issue.record("an attribute was accepted with an empty catalogue")
        } catch {
            #expect(error.problem.contains("no attributes are declared"))
        }
    }

    @Test("generated SQL carries no value: every value is a numbered, cast parameter")
    func sqlHasNoValues() throws {
        let segment = try parseSegment(
            """
            all:
              - stage: Zq-stage-77
              - attribute: {tier: {in: [goldzq]}, score: {gte: 31337.25}, birthday: {lt: 1987-06-05}}
              - attribute: {tags: {contains: tagzq}}
              - product: {any: [prodzq]}
              - consent: chanzq
              - events: {kind: kindzq, within_days: 4242, where: {fieldzq: valuezq}, sum: {field: amountzq, gt: 9191}}
              - last_seen_days: {gte: 8383}
            """)
        var builder = SQLBuilder(firstIndex: 3)
        let sql = segment.sql(customer: "c", now: "$2::timestamptz", into: &builder)
        for value in [
            "Zq-stage-77", "goldzq", "31337", "1987-06-05", "tagzq", "prodzq", "chanzq", "kindzq", "4242",
            "fieldzq", "valuezq", "amountzq", "9191", "8383", "tier", "score", "birthday", "tags",
        ] {
            #expect(!sql.contains(value), "\(value) is in the SQL text")
        }
        #expect(builder.values.contains(.text("Zq-stage-77")))
        #expect(builder.values.contains(.double(31337.25)))
        #expect(sql.contains("$3::text"))
        #expect(!sql.contains("now()"))
        #expect(
            sql.range(of: #"\$1(?![0-9])"#, options: .regularExpression) == nil, "the caller's own $1 is left alone")
    }
}

@Suite("payload filters: reading")
struct PayloadFilterParseTests {
    func parse(_ text: String) throws(ConfigError) -> PayloadFilter {
        try PayloadFilter.parse(try ConfigNode.parse(text, file: "filter.yaml"))
    }

    @Test("filters parse, and their canonical JSON reads back equal")
    func goodFilters() throws {
        for text in [
            "{amount: {gte: 100}, currency: EUR}", "any: [{game: slots}, {game.provider: {in: [a, b]}}]",
            "not: {flagged: true}", "{tags: {contains: vip}, country: NO, id: {exists: true}}",
            "amount: {in: [1, 2.5]}",
        ] {
            let filter = try parse(text)
            #expect(try parse(filter.json) == filter, "\(text) -> \(filter.json)")
        }
        // YAML 1.1 booleans other than true/false stay text in a payload: a country code NO is not false.
        #expect(try parse("country: NO").json == #"{"country":{"eq":"NO"}}"#)
        #expect(try parse("won: true").json == #"{"won":{"eq":true}}"#)
    }

    @Test("bad filters are refused with their place")
    func badFilters() {
        let cases: [(String, String, String)] = [
            ("{}", "", "a filter needs at least one payload field"),
            ("amount: {between: [1, 2]}", "amount.between", #"unknown operator "between""#),
            ("amount: {gte: lots}", "amount.gte", "gte compares numbers"),
            ("amount: null", "amount", "expected a value, found null"),
            ("all: []", "all", "all needs at least one condition"),
            ("a..b: 1", "a..b", "has an empty part"),
        ]
        for (text, path, problem) in cases {
            do {
                _ = try parse(text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.path == path, "\(text): \(error)")
                #expect(error.problem.contains(problem), "\(text): \(error)")
            }
        }
    }
}
