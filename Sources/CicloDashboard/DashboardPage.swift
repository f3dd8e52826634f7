import Mustache

/// One page of the dashboard, as the reporter assembles it from the KPI queries: headline figures, charts, tables
/// and plain statements (such as "the difference is not significant"). The page knows nothing of where the
/// figures come from, so its rendering is tested without a database.
public struct DashboardPage: Sendable, Equatable {
    public struct Link: Sendable, Equatable {
        public var title: String
        public var href: String
        public init(title: String, href: String) {
            self.title = title
            self.href = href
        }
    }

    /// A headline figure: "CTR 3.2%" with an optional note ("machine opens apart: 1.1%").
    public struct Card: Sendable, Equatable {
        public var label: String
        public var value: String
        public var note: String?
        public init(label: String, value: String, note: String? = nil) {
            self.label = label
            self.value = value
            self.note = note
        }
    }

    public struct Table: Sendable, Equatable {
        public struct Cell: Sendable, Equatable {
            public var text: String
            public var href: String?
            public init(_ text: String, href: String? = nil) {
                self.text = text
                self.href = href
            }
        }
        public var title: String
        public var headers: [String]
        public var rows: [[Cell]]
        public init(title: String, headers: [String], rows: [[Cell]]) {
            self.title = title
            self.headers = headers
            self.rows = rows
        }
    }

    public var title: String
    public var period: String
    public var navigation: [Link]
    public var cards: [Card]
    public var statements: [String]
    /// Inline SVG from `LineChart` and `BarChart`; the only unescaped content of a page.
    public var charts: [String]
    public var tables: [Table]

    public init(
        title: String, period: String, navigation: [Link] = [], cards: [Card] = [], statements: [String] = [],
        charts: [String] = [], tables: [Table] = []
    ) {
        self.title = title
        self.period = period
        self.navigation = navigation
        self.cards = cards
        self.statements = statements
        self.charts = charts
        self.tables = tables
    }

    /// The page as HTML. Every text is escaped by the template; charts are our own SVG, escaped when drawn.
    public var html: String {
        Self.template.render(context)
    }

    var context: [String: Any] {
        [
            "title": title, "period": period,
            "navigation": navigation.map { ["title": $0.title, "href": $0.href] },
            "cards": cards.map { card -> [String: Any] in
                var values: [String: Any] = ["label": card.label, "value": card.value]
                if let note = card.note { values["note"] = note }
                return values
            },
            "statements": statements.map { ["text": $0] },
            "charts": charts.map { ["svg": $0] },
            "tables": tables.map { table -> [String: Any] in
                [
                    "title": table.title, "headers": table.headers.map { ["text": $0] },
                    "rows": table.rows.map { row in
                        ["cells": row.map { cell -> [String: Any] in
                            var values: [String: Any] = ["text": cell.text]
                            if let href = cell.href { values["href"] = href }
                            return values
                        }]
                    },
                ]
            },
        ]
    }

    /// The template is ours and fixed, so a parse failure is a programming error that the first test catches.
    static let template: MustacheTemplate = {
        do { return try MustacheTemplate(string: DashboardTemplate.page) } catch {
            fatalError("the dashboard template does not parse: \(error)")
        }
    }()
}
