import Postgres

/// A campaign's, a stage's or the whole programme's figures per day, from the rollups: what the charts draw.
/// Every day of the range has a point, zero when nothing happened, so a quiet day shows as a dip and not as a
/// line drawn straight over it.
public struct DailySeries: Sendable, Equatable {
    public struct Day: Sendable, Equatable {
        public var day: String
        public var sent = 0, delivered = 0, opens = 0, clicks = 0, converted = 0, heldOut = 0, holdoutConverted = 0
        public init(day: String) { self.day = day }
    }

    public var days: [Day]

    public init(days: [Day]) { self.days = days }

    /// $1 campaign key (null: all), $2 stage (null: all), $3 and $4 the first and last day. Delivered is what the
    /// report counts as delivered: sent less bounces and provider failures.
    static let sql = """
        SELECT d::date::text,
               coalesce(sum(r.sent), 0)::int8,
               coalesce(sum(greatest(r.sent - r.bounced_hard - r.bounced_soft - r.provider_failed, 0)), 0)::int8,
               coalesce(sum(r.opens), 0)::int8, coalesce(sum(r.clicks), 0)::int8,
               coalesce(sum(r.converted), 0)::int8, coalesce(sum(r.held_out), 0)::int8,
               coalesce(sum(r.holdout_converted), 0)::int8
        FROM generate_series($3::date, $4::date, interval '1 day') AS d
        LEFT JOIN report_rollups r ON r.day = d::date
            AND ($2::text IS NULL OR r.stage = $2::text)
            AND ($1::text IS NULL OR r.campaign_id = (SELECT id FROM campaigns WHERE key = $1::text))
        GROUP BY d ORDER BY d
        """

    public static func load(
        campaign: String?, stage: String?, from: String, to: String, on conn: PostgresConnection
    ) async throws -> DailySeries {
        let rows = try await conn.query(sql, [campaign, stage, from, to])
        return DailySeries(days: try rows.map { row in
            var day = Day(day: try row.decode(String.self, at: 0))
            day.sent = try row.decode(Int.self, at: 1)
            day.delivered = try row.decode(Int.self, at: 2)
            day.opens = try row.decode(Int.self, at: 3)
            day.clicks = try row.decode(Int.self, at: 4)
            day.converted = try row.decode(Int.self, at: 5)
            day.heldOut = try row.decode(Int.self, at: 6)
            day.holdoutConverted = try row.decode(Int.self, at: 7)
            return day
        })
    }

    var labels: [String] { days.map(\.day) }

    /// Sends and holdout decisions per day.
    var volumeChart: LineChart {
        LineChart(
            title: "Sends per day", labels: labels,
            series: [
                .init(name: "sent", values: days.map { Double($0.sent) }),
                .init(name: "delivered", values: days.map { Double($0.delivered) }),
                .init(name: "held out", values: days.map { Double($0.heldOut) }),
            ])
    }

    /// Human opens and clicks per delivered send, per day (machine ones are not in them).
    var engagementChart: LineChart {
        LineChart(
            title: "Open rate and CTR per day", labels: labels,
            series: [
                .init(name: "open rate", values: days.map { Self.rate($0.opens, $0.delivered) }),
                .init(name: "CTR", values: days.map { Self.rate($0.clicks, $0.delivered) }),
            ], format: .rate)
    }

    /// The treated against the holdout conversion rate, per day of the sends.
    var conversionChart: LineChart {
        LineChart(
            title: "Conversion rate, treated vs holdout", labels: labels,
            series: [
                .init(name: "treated", values: days.map { Self.rate($0.converted, $0.sent) }),
                .init(name: "holdout", values: days.map { Self.rate($0.holdoutConverted, $0.heldOut) }),
            ], format: .rate)
    }

    static func rate(_ part: Int, _ whole: Int) -> Double { whole > 0 ? Double(part) / Double(whole) : 0 }
}
