/// The SQL that decides what an outcome counts for. The fold and `ciclo report --verify`'s recount both build their
/// statements from these fragments, so the two can only differ in what they read, never in how they judge it.
enum Attribution {
    /// The day a figure is filed under: the send's day in UTC.
    static func day(_ instant: String) -> String { "((\(instant)) AT TIME ZONE 'UTC')::date" }

    /// Event kinds that convert for some campaign; other events are skipped before any attribution work.
    static let conversionKinds = """
        (SELECT array_agg(DISTINCT k) FROM (
             SELECT unnest(conversion_kinds) FROM lifecycle_stages
             UNION ALL SELECT unnest('{purchase,deposit,sign_up}'::text[])) t(k))
        """

    /// The longest attribution window, so the walk back over a customer's sends has a lower bound.
    static let longestWindow = "(SELECT coalesce(max(attribution_days), 7) FROM campaigns)"

    /// Revenue: the event's payload amount when it is a number or a string that reads as one.
    static let amount = """
        CASE WHEN jsonb_typeof(e.payload -> 'amount') = 'number' THEN (e.payload ->> 'amount')::numeric
             WHEN jsonb_typeof(e.payload -> 'amount') = 'string'
                  AND e.payload ->> 'amount' ~ '^-?[0-9]{1,15}(\\.[0-9]{1,6})?$' THEN (e.payload ->> 'amount')::numeric
        END
        """

    /// For an event `e` (with fold_xid, customer_id, kind, occurred_at), the one send credited with it, or no row:
    /// the latest sent delivery or holdout decision (campaign or global: `global` tells them apart) of the customer, among campaigns for which the kind converts,
    /// no later than the event, within the campaign's window, and recorded in a transaction no newer than the
    /// event's. That last rule makes the answer a function of the data: every send it may pick is committed and
    /// visible whenever the event itself is folded, whatever the order of commits. `longest` bounds the walk back
    /// over deliveries_customer and send_decisions_holdout_customer.
    static func creditedSend(longest: String) -> String {
        """
        CROSS JOIN LATERAL (
            SELECT * FROM (
                (SELECT d.idempotency_key AS send_key, false AS holdout, false AS global, d.campaign_id, d.variant, d.channel,
                        d.stage, d.finished_at AS sent_at
                 FROM deliveries d
                 JOIN campaigns k ON k.id = d.campaign_id
                 LEFT JOIN lifecycle_stages ls ON ls.key = k.stage
                 WHERE d.customer_id = e.customer_id AND d.outcome = 'sent'
                   AND d.finished_at <= e.occurred_at
                   AND d.finished_at > e.occurred_at - \(longest) * interval '1 day'
                   AND d.finished_at > e.occurred_at - k.attribution_days * interval '1 day'
                   AND d.fold_xid <= e.fold_xid
                   AND e.kind = ANY (coalesce(ls.conversion_kinds, '{purchase,deposit,sign_up}'))
                 ORDER BY d.finished_at DESC, d.idempotency_key DESC
                 LIMIT 1)
                UNION ALL
                (SELECT coalesce(sd.idempotency_key, sd.campaign_id || ':' || sd.customer_id || ':' || sd.occasion),
                        true, sd.outcome = 'global_holdout', sd.campaign_id, sd.variant, sd.channel, sd.stage, sd.due_at
                 FROM send_decisions sd
                 JOIN campaigns k ON k.id = sd.campaign_id
                 LEFT JOIN lifecycle_stages ls ON ls.key = k.stage
                 WHERE sd.customer_id = e.customer_id AND sd.outcome IN ('holdout', 'global_holdout')
                   AND sd.due_at <= e.occurred_at
                   AND sd.due_at > e.occurred_at - \(longest) * interval '1 day'
                   AND sd.due_at > e.occurred_at - k.attribution_days * interval '1 day'
                   AND sd.fold_xid <= e.fold_xid
                   AND e.kind = ANY (coalesce(ls.conversion_kinds, '{purchase,deposit,sign_up}'))
                 ORDER BY sd.due_at DESC, sd.campaign_id DESC, sd.occasion DESC
                 LIMIT 1)
            ) candidates
            ORDER BY sent_at DESC, holdout, send_key DESC
            LIMIT 1
        ) s
        """
    }

    /// For a response `r` (with fold_xid, id, idempotency_key, kind, machine), whether it is the first of its kind
    /// and machine flag for its send in fold order: only those count, so a send opened ten times counts one open.
    /// Every earlier response is committed and visible when `r` is folded (an index-only probe of
    /// responses_first_of_kind, 0016). A response without a send key matches nothing, so it is always first: each
    /// one counts.
    static let firstResponse = """
        NOT EXISTS (
            SELECT 1 FROM responses o
            WHERE o.idempotency_key = r.idempotency_key AND o.kind = r.kind AND o.machine = r.machine
              AND (o.fold_xid, o.id) < (r.fold_xid, r.id))
        """

    /// A response's dimensions come from its send's delivery when there is one (index-only: deliveries_send, 0016),
    /// else from the response itself, on the day it occurred. `r` has campaign_id, channel, occurred_at; `d` is the
    /// delivery.
    static let responseDimensions = """
        coalesce(d.campaign_id, r.campaign_id) AS campaign_id, d.variant, coalesce(d.channel, r.channel) AS channel,
        d.stage, \(day("coalesce(d.finished_at, r.occurred_at)")) AS day
        """

    /// Response figures from rows with (kind, machine, first).
    static let responseFigures = """
        count(*) FILTER (WHERE first AND kind = 'delivered') AS delivered,
        count(*) FILTER (WHERE first AND kind = 'bounce_hard') AS bounced_hard,
        count(*) FILTER (WHERE first AND kind = 'bounce_soft') AS bounced_soft,
        count(*) FILTER (WHERE first AND kind = 'complaint') AS complaints,
        count(*) FILTER (WHERE first AND kind = 'failed') AS provider_failed,
        count(*) FILTER (WHERE first AND kind = 'unsubscribe') AS unsubscribes,
        count(*) FILTER (WHERE first AND kind = 'open' AND NOT machine) AS opens,
        count(*) FILTER (WHERE first AND kind = 'open' AND machine) AS machine_opens,
        count(*) FILTER (WHERE first AND kind = 'click' AND NOT machine) AS clicks,
        count(*) FILTER (WHERE first AND kind = 'click' AND machine) AS machine_clicks
        """
    static let responseColumns = [
        "delivered", "bounced_hard", "bounced_soft", "complaints", "provider_failed", "unsubscribes", "opens",
        "machine_opens", "clicks", "machine_clicks",
    ]

    /// Delivery figures from rows with outcome.
    static let deliveryFigures = """
        count(*) FILTER (WHERE outcome = 'sent') AS sent,
        count(*) FILTER (WHERE outcome = 'failed') AS failed,
        count(*) FILTER (WHERE outcome = 'suppressed') AS suppressed,
        count(*) FILTER (WHERE outcome = 'cancelled') AS cancelled,
        count(*) FILTER (WHERE outcome = 'discarded') AS discarded
        """
    static let deliveryColumns = ["sent", "failed", "suppressed", "cancelled", "discarded"]

    /// Conversion figures from credited rows with (holdout, global, first, revenue). A campaign's holdout and the
    /// global holdout are apart: the global one misses every campaign, so it measures the programme, not one
    /// campaign (0018_holdout_groups.sql).
    static let conversionFigures = """
        count(*) FILTER (WHERE NOT holdout) AS conversions,
        count(*) FILTER (WHERE NOT holdout AND first) AS converted,
        coalesce(sum(revenue) FILTER (WHERE NOT holdout), 0) AS revenue,
        count(*) FILTER (WHERE holdout AND NOT global) AS holdout_conversions,
        count(*) FILTER (WHERE holdout AND NOT global AND first) AS holdout_converted,
        coalesce(sum(revenue) FILTER (WHERE holdout AND NOT global), 0) AS holdout_revenue,
        count(*) FILTER (WHERE global) AS global_holdout_conversions,
        count(*) FILTER (WHERE global AND first) AS global_holdout_converted,
        coalesce(sum(revenue) FILTER (WHERE global), 0) AS global_holdout_revenue
        """
    static let conversionColumns = [
        "conversions", "converted", "revenue", "holdout_conversions", "holdout_converted", "holdout_revenue",
        "global_holdout_conversions", "global_holdout_converted", "global_holdout_revenue",
    ]

    /// Holdout decisions counted from rows with outcome, once their due time has passed.
    static let holdoutFigures = """
        count(*) FILTER (WHERE outcome = 'holdout') AS held_out,
        count(*) FILTER (WHERE outcome = 'global_holdout') AS global_held_out
        """
    static let holdoutColumns = ["held_out", "global_held_out"]

    /// Every figure of report_rollups, in table order.
    static let allColumns: [String] = [
        deliveryColumns, responseColumns, Array(conversionColumns[0..<3]), ["held_out"],
        Array(conversionColumns[3..<6]), ["global_held_out"], Array(conversionColumns[6..<9]),
    ].flatMap { $0 }

    static let dimensions = "campaign_id, variant, channel, stage, day"

    /// Adds grouped figures to the rollups: `select` yields the dimensions then `columns`, in that order.
    static func upsert(_ columns: [String], from select: String) -> String {
        let names = columns.joined(separator: ", ")
        let sums = columns.map { "\($0) = t.\($0) + excluded.\($0)" }.joined(separator: ", ")
        return """
            INSERT INTO report_rollups AS t (\(dimensions), \(names))
            \(select)
            ON CONFLICT ON CONSTRAINT report_rollups_key DO UPDATE SET \(sums)
            """
    }
}
