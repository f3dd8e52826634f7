import Foundation
import Logging
import Postgres

/// Emits one record per metric at every wall-clock multiple of the sample interval, so that samples from systems
/// started at different moments line up on one timebase.
struct Sampler: Sendable {
    static let rollingWindowSeconds = 30

    /// Jobs available and not yet claimed (due now), as the comparison harness defines queue_depth; served by
    /// the partial claim index.
    static let depthSQL = """
        SELECT count(*)::int8 FROM send_jobs WHERE state = 'due' AND run_at <= now()
        """

    let every: Double
    let instanceID: Int
    let latencies: LatencyWindow
    let enqueued: @Sendable () -> Int
    let completed: @Sendable () -> Int
    let connection: PostgresConnection
    let emit: @Sendable (String) -> Void
    let logger: Logger

    /// Samples until cancelled.
    func run() async {
        var last = (at: ContinuousClock.now, enqueued: enqueued(), completed: completed())
        var lastBoundary = -Double.infinity
        var lastDepth = 0
        var firstWindow = true
        while !Task.isCancelled {
            let now = Date().timeIntervalSince1970
            // The next multiple of the interval; never the one just emitted, even if the wall clock stepped back.
            let boundary = max((now / every).rounded(.up) * every, lastBoundary + every)
            do {
                try await Task.sleep(for: .milliseconds(Int64(((boundary - now) * 1000).rounded(.up))))
            } catch {
                return
            }
            lastBoundary = boundary
            let current = (at: ContinuousClock.now, enqueued: enqueued(), completed: completed())
            let elapsed = max(Self.seconds(current.at - last.at), 0.001)
            let enqueueRate = Double(current.enqueued - last.enqueued) / elapsed
            let completionRate = Double(current.completed - last.completed) / elapsed
            // The first window runs from start-up to the first boundary, so it is usually shorter than the rest.
            let rateWindow = firstWindow ? (elapsed * 1000).rounded() / 1000 : every
            last = current
            firstWindow = false
            let latency = latencies.percentiles()
            do {
                lastDepth = try await connection.query(Self.depthSQL, prepared: true).scalar(Int.self)
            } catch {
                // During an outage the sample still goes out on time, with the depth last seen.
                logger.warning("queue depth query failed; reporting the last depth", metadata: ["error": "\(error)"])
            }
            let t = BenchTime.iso8601(Date(timeIntervalSince1970: boundary))
            let records: [(String, Double, Double)] = [
                ("claim_p50_ms", latency.p50, Double(Self.rollingWindowSeconds)),
                ("claim_p95_ms", latency.p95, Double(Self.rollingWindowSeconds)),
                ("claim_p99_ms", latency.p99, Double(Self.rollingWindowSeconds)),
                ("enqueue_rate", enqueueRate, rateWindow),
                ("completion_rate", completionRate, rateWindow),
                // A gauge read at sample time: it covers no window.
                ("queue_depth", Double(lastDepth), 0),
            ]
            for (metric, value, window) in records {
                emit(
                    JSONLine([
                        "t": .string(t), "system": .string("ciclo"), "instance_id": .int(instanceID),
                        "kind": .string("adapter"), "subject_kind": .string("adapter"), "subject": .string(""),
                        "metric": .string(metric), "value": .number(value), "window_s": .number(window),
                    ]).text)
            }
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
