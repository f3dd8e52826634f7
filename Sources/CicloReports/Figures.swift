import Foundation

/// The counted figures of a group of rollup rows (report_rollups' columns, summed).
public struct Figures: Sendable, Equatable, Codable {
    public var sent = 0, failed = 0, suppressed = 0, cancelled = 0, discarded = 0
    public var delivered = 0, bouncedHard = 0, bouncedSoft = 0, complaints = 0, providerFailed = 0
    public var unsubscribes = 0, opens = 0, machineOpens = 0, clicks = 0, machineClicks = 0
    public var conversions = 0, converted = 0
    public var revenue: Decimal = 0
    public var heldOut = 0, holdoutConversions = 0, holdoutConverted = 0
    public var holdoutRevenue: Decimal = 0
    /// The global holdout's would-have-received sends of these lines: customers kept from all marketing, so they
    /// measure the programme as a whole, never one campaign's uplift.
    public var globalHeldOut = 0, globalHoldoutConversions = 0, globalHoldoutConverted = 0
    public var globalHoldoutRevenue: Decimal = 0

    public init() {}

    /// The columns in the order `init(columns:)` reads them: Attribution.allColumns.
    init(columns v: [String]) {
        func int(_ i: Int) -> Int { Int(v[i]) ?? 0 }
        func decimal(_ i: Int) -> Decimal { Decimal(string: v[i], locale: Locale(identifier: "en_US_POSIX")) ?? 0 }
        (sent, failed, suppressed, cancelled, discarded) = (int(0), int(1), int(2), int(3), int(4))
        (delivered, bouncedHard, bouncedSoft, complaints, providerFailed) = (int(5), int(6), int(7), int(8), int(9))
        (unsubscribes, opens, machineOpens, clicks, machineClicks) = (int(10), int(11), int(12), int(13), int(14))
        (conversions, converted) = (int(15), int(16))
        revenue = decimal(17)
        (heldOut, holdoutConversions, holdoutConverted) = (int(18), int(19), int(20))
        holdoutRevenue = decimal(21)
        (globalHeldOut, globalHoldoutConversions, globalHoldoutConverted) = (int(22), int(23), int(24))
        globalHoldoutRevenue = decimal(25)
    }

    public static func + (a: Figures, b: Figures) -> Figures {
        var s = a
        s.sent += b.sent
        s.failed += b.failed
        s.suppressed += b.suppressed
        s.cancelled += b.cancelled
        s.discarded += b.discarded
        s.delivered += b.delivered
        s.bouncedHard += b.bouncedHard
        s.bouncedSoft += b.bouncedSoft
        s.complaints += b.complaints
        s.providerFailed += b.providerFailed
        s.unsubscribes += b.unsubscribes
        s.opens += b.opens
        s.machineOpens += b.machineOpens
        s.clicks += b.clicks
        s.machineClicks += b.machineClicks
        s.conversions += b.conversions
        s.converted += b.converted
        s.revenue += b.revenue
        s.heldOut += b.heldOut
        s.holdoutConversions += b.holdoutConversions
        s.holdoutConverted += b.holdoutConverted
        s.holdoutRevenue += b.holdoutRevenue
        s.globalHeldOut += b.globalHeldOut
        s.globalHoldoutConversions += b.globalHoldoutConversions
        s.globalHoldoutConverted += b.globalHoldoutConverted
        s.globalHoldoutRevenue += b.globalHoldoutRevenue
        return s
    }
}

/// The rates marketers steer by, derived from Figures. A rate whose denominator is zero is nil (shown as "-"),
/// never zero: "no sends" is not "no clicks".
public struct KPIs: Sendable, Equatable, Codable {
    /// Sends that reached the inbox: sent less hard and soft bounces and provider failures (a provider that never
    /// confirms delivery still gets a rate). `confirmedDelivered` is what providers' webhooks said.
    public var delivered: Int
    public var confirmedDelivered: Int
    public var bounceRate: Double?
    /// Human opens and clicks, once per send; machine ones (privacy proxies, link scanners) apart.
    public var openRate: Double?
    public var machineOpenRate: Double?
    public var clickThroughRate: Double?
    public var machineClickRate: Double?
    public var clickToOpenRate: Double?
    /// Sends with at least one credited conversion, per send.
    public var conversionRate: Double?
    public var revenuePerSend: Double?
    public var unsubscribeRate: Double?
    public var uplift: Uplift?

    public init(_ f: Figures) {
        func rate(_ part: Int, _ whole: Int) -> Double? { whole > 0 ? Double(part) / Double(whole) : nil }
        delivered = max(0, f.sent - f.bouncedHard - f.bouncedSoft - f.providerFailed)
        confirmedDelivered = f.delivered
        bounceRate = rate(f.bouncedHard + f.bouncedSoft, f.sent)
        openRate = rate(f.opens, delivered)
        machineOpenRate = rate(f.machineOpens, delivered)
        clickThroughRate = rate(f.clicks, delivered)
        machineClickRate = rate(f.machineClicks, delivered)
        clickToOpenRate = rate(f.clicks, f.opens)
        conversionRate = rate(f.converted, f.sent)
        revenuePerSend = f.sent > 0 ? NSDecimalNumber(decimal: f.revenue).doubleValue / Double(f.sent) : nil
        unsubscribeRate = rate(f.unsubscribes, delivered)
        uplift = Uplift(
            treatedConverted: f.converted, treated: f.sent, holdoutConverted: f.holdoutConverted,
            holdout: f.heldOut)
    }
}
