import Histogram
import Synchronization

/// Claim latencies over a rolling window, in bounded memory: one HDR histogram per second in a ring, merged at
/// sample time. Recording costs one lock and one bucket increment, so handlers can call it for every job.
final class LatencyWindow: Sendable {
    /// Latencies at or above an hour are recorded as an hour: a job that waited that long is off the chart anyway,
    /// and a fixed top keeps every histogram's layout the same, which merging requires.
    static let highestMicroseconds: UInt64 = 3_600_000_000

    private struct Slot {
        var second: Int64 = -1
        var histogram = LatencyWindow.emptyHistogram()
    }

    private let seconds: Int
    private let start = ContinuousClock.now
    private let slots: Mutex<[Slot]>

    /// A window of `seconds` whole seconds, the current (partial) one included.
    init(seconds: Int = 30) {
        self.seconds = seconds
        self.slots = Mutex(Array(repeating: Slot(), count: seconds))
    }

    static func emptyHistogram() -> Histogram<UInt64> {
        Histogram(
            lowestDiscernibleValue: 1, highestTrackableValue: highestMicroseconds,
            numberOfSignificantValueDigits: .three)
    }

    /// Seconds since the window was made, on the monotonic clock, so a wall-clock step never scrambles the ring.
    private func currentSecond() -> Int64 {
        (ContinuousClock.now - start).components.seconds
    }

    /// Records one latency in microseconds.
    func record(microseconds: Int64) {
        let value = UInt64(min(max(microseconds, 0), Int64(Self.highestMicroseconds)))
        let second = currentSecond()
        let index = Int(second % Int64(seconds))
        slots.withLock { slots in
            if slots[index].second != second {
                // The slot last held a second that has left the window.
                slots[index].histogram.reset()
                slots[index].second = second
            }
            slots[index].histogram.record(value)
        }
    }

    /// p50, p95 and p99 in milliseconds over the window, and how many latencies they cover (0 when none).
    func percentiles() -> (p50: Double, p95: Double, p99: Double, count: UInt64) {
        let now = currentSecond()
        var merged = Self.emptyHistogram()
        slots.withLock { slots in
            for slot in slots where slot.second > now - Int64(seconds) && slot.second <= now {
                merged.add(slot.histogram)
            }
        }
        guard merged.totalCount > 0 else { return (0, 0, 0, 0) }
        func ms(_ percentile: Double) -> Double { Double(merged.valueAtPercentile(percentile)) / 1000 }
        return (ms(50), ms(95), ms(99), merged.totalCount)
    }
}
