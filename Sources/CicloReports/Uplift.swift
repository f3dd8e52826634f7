import Foundation

/// The uplift of a treated group's conversion rate over its holdout's, with a 95% confidence interval for the
/// difference of the two proportions (Newcombe's hybrid score interval, method 10 of Newcombe 1998: Wilson
/// intervals for each rate, combined). Unlike the textbook Wald interval it stays inside [-1, 1] and behaves with
/// small groups and rates near 0 or 1, which holdouts often are.
public struct Uplift: Sendable, Equatable, Codable {
    public var treatedRate: Double
    public var holdoutRate: Double
    /// treatedRate − holdoutRate, in absolute terms (0.02 is two percentage points).
    public var difference: Double
    public var lower: Double
    public var upper: Double
    /// difference / holdoutRate, when the holdout converted at all.
    public var relative: Double?

    /// Significant at 5% when the interval leaves out zero.
    public var significant: Bool { lower > 0 || upper < 0 }

    /// Nil when either group is empty: there is nothing to compare.
    public init?(treatedConverted: Int, treated: Int, holdoutConverted: Int, holdout: Int, z: Double = 1.959964) {
        guard treated > 0, holdout > 0, (0...treated).contains(treatedConverted),
            (0...holdout).contains(holdoutConverted)
        else { return nil }
        let p1 = Double(treatedConverted) / Double(treated)
        let p2 = Double(holdoutConverted) / Double(holdout)
        let (l1, u1) = Self.wilson(successes: treatedConverted, trials: treated, z: z)
        let (l2, u2) = Self.wilson(successes: holdoutConverted, trials: holdout, z: z)
        treatedRate = p1
        holdoutRate = p2
        difference = p1 - p2
        lower = difference - ((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2)).squareRoot()
        upper = difference + ((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2)).squareRoot()
        relative = p2 > 0 ? difference / p2 : nil
    }

    /// The Wilson score interval for one proportion.
    static func wilson(successes: Int, trials: Int, z: Double) -> (Double, Double) {
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let centre = p + z2 / (2 * n)
        let spread = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        let denominator = 1 + z2 / n
        return (max(0, (centre - spread) / denominator), min(1, (centre + spread) / denominator))
    }

    /// One plain sentence a marketer can act on.
    public var statement: String {
        let points = { (value: Double) in String(format: "%+.2f", value * 100) }
        let interval = "95% CI \(points(lower)) to \(points(upper)) points"
        if significant {
            return difference > 0
                ? "converts \(points(difference)) points more than its holdout (\(interval))"
                : "converts \(points(difference)) points less than its holdout (\(interval))"
        }
        return "not significant: the difference of \(points(difference)) points could be chance (\(interval))"
    }
}
