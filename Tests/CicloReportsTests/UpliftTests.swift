import CicloTestSupport
import Foundation
import Testing

@testable import CicloReports

@Suite struct UpliftTests {
    /// Newcombe (1998), Statistics in Medicine 17, table II, example (a): 56/70 against 48/80, method 10 gives
    /// 0.0524 to 0.3339.
    @Test func matchesNewcombesPublishedInterval() throws {
        let u = try #require(Uplift(treatedConverted: 56, treated: 70, holdoutConverted: 48, holdout: 80))
        #expect(abs(u.difference - 0.2) < 1e-12)
        #expect(abs(u.lower - 0.0524) < 0.00005)
        #expect(abs(u.upper - 0.3339) < 0.00005)
        #expect(u.significant)
        #expect(u.statement.hasPrefix("converts +20.00 points more than its holdout"))
    }

    /// Example (e) of the same table: 0/10 against 0/20, the interval -0.1611 to 0.2775, never significant.
    @Test func handlesZeroConversionsOnBothSides() throws {
        let u = try #require(Uplift(treatedConverted: 0, treated: 10, holdoutConverted: 0, holdout: 20))
        #expect(u.difference == 0)
        #expect(abs(u.lower - -0.1611) < 0.00005)
        #expect(abs(u.upper - 0.2775) < 0.00005)
        #expect(!u.significant)
        #expect(u.relative == nil)
        #expect(u.statement.hasPrefix("not significant"))
    }

    @Test func negativeEffectIsSaidPlainly() throws {
        let u = try #require(Uplift(treatedConverted: 500, treated: 10_000, holdoutConverted: 150, holdout: 2_000))
        #expect(u.upper < 0)
        #expect(u.statement.hasPrefix("converts -2.50 points less than its holdout"))
        #expect(abs(try #require(u.relative) - -1.0 / 3.0) < 1e-12)
    }

    /// Over 2,000 simulated campaigns (seeded draws, 4,000 treated and 1,000 held out), the interval holds the
    /// true difference about 95% of the time, and a campaign with no effect is called significant about 5% of
    /// the time.
    @Test func coversTheTrueEffectNinetyFivePercentOfTheTime() throws {
        var random = SplitMix64(seed: 20_261_123)
        func draws(_ n: Int, _ p: Double) -> Int {
            (0..<n).reduce(0) { count, _ in count + (Double(random.next() >> 11) / 9_007_199_254_740_992 < p ? 1 : 0) }
        }
        var covered = 0
        var falseAlarms = 0
        let runs = 2_000
        for _ in 0..<runs {
            let u = try #require(
                Uplift(
                    treatedConverted: draws(4_000, 0.12), treated: 4_000,
                    holdoutConverted: draws(1_000, 0.08), holdout: 1_000))
            if u.lower <= 0.04 && 0.04 <= u.upper { covered += 1 }
            let n = try #require(
                Uplift(
                    treatedConverted: draws(4_000, 0.1), treated: 4_000,
                    holdoutConverted: draws(1_000, 0.1), holdout: 1_000))
            if n.significant { falseAlarms += 1 }
        }
        // Binomial(2000, 0.95) has a standard deviation of about 10: these bounds are four of them.
        #expect((1_860...1_940).contains(covered), "covered \(covered) of \(runs)")
        #expect((60...140).contains(falseAlarms), "\(falseAlarms) false alarms in \(runs)")
    }

    @Test func emptyOrImpossibleGroupsGiveNoUplift() {
        #expect(Uplift(treatedConverted: 0, treated: 0, holdoutConverted: 1, holdout: 10) == nil)
        #expect(Uplift(treatedConverted: 1, treated: 10, holdoutConverted: 0, holdout: 0) == nil)
        #expect(Uplift(treatedConverted: 11, treated: 10, holdoutConverted: 0, holdout: 5) == nil)
        #expect(Uplift(treatedConverted: -1, treated: 10, holdoutConverted: 0, holdout: 5) == nil)
    }

    @Test func intervalNarrowsWithMoreCustomers() throws {
        let small = try #require(Uplift(treatedConverted: 12, treated: 100, holdoutConverted: 8, holdout: 100))
        let large = try #require(
            Uplift(treatedConverted: 1_200, treated: 10_000, holdoutConverted: 800, holdout: 10_000))
        #expect(small.difference == large.difference)
        #expect(large.upper - large.lower < (small.upper - small.lower) / 5)
        #expect(!small.significant)
        #expect(large.significant)
    }
}

@Suite struct KPITests {
    @Test func ratesUseTheirOwnDenominatorsAndNilForNone() {
        var f = Figures()
        #expect(KPIs(f).openRate == nil)
        #expect(KPIs(f).uplift == nil)
        f.sent = 1_000
        f.bouncedHard = 20
        f.bouncedSoft = 30
        f.providerFailed = 50
        f.opens = 225
        f.machineOpens = 90
        f.clicks = 45
        f.converted = 30
        f.revenue = 1_500
        f.unsubscribes = 9
        let k = KPIs(f)
        #expect(k.delivered == 900)
        #expect(k.bounceRate == 0.05)
        #expect(k.openRate == 0.25)
        #expect(k.machineOpenRate == 0.1)
        #expect(k.clickThroughRate == 0.05)
        #expect(k.clickToOpenRate == 0.2)
        #expect(k.conversionRate == 0.03)
        #expect(k.revenuePerSend == 1.5)
        #expect(k.unsubscribeRate == 0.01)
    }

    @Test func figuresAddUp() {
        var a = Figures()
        a.sent = 3
        a.revenue = Decimal(string: "1.25")!
        var b = Figures()
        b.sent = 4
        b.revenue = Decimal(string: "2.50")!
        b.heldOut = 2
        let s = a + b
        #expect(s.sent == 7)
        #expect(s.revenue == Decimal(string: "3.75")!)
        #expect(s.heldOut == 2)
    }
}
