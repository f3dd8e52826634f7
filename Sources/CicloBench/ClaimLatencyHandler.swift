import CicloQueue
import CicloWorker

/// The consumer's job: note how long the job waited between the producer stamping it and a worker starting it,
/// pretend to work, report it sent.
struct ClaimLatencyHandler: JobHandler {
    let latencies: LatencyWindow
    let work: Duration

    func handle(_ job: ClaimedJob) async -> JobOutcome {
        if let stamped = Self.enqueuedAt(job.payload.text) {
            latencies.record(microseconds: BenchTime.nowMicroseconds() - stamped)
        }
        return await NullTransport(work: work).handle(job)
    }

    /// The `t` field of a payload the producer wrote. A hand scan rather than a JSON decoder, because it runs for
    /// every job and the payload's shape is ours: `{"t": <digits>, "pad": "xxx"}` as jsonb prints it.
    static func enqueuedAt(_ payload: String) -> Int64? {
        let utf8 = Array(payload.utf8)
        let key = Array("\"t\":".utf8)
        guard let start = utf8.indices.first(where: { utf8[$0...].starts(with: key) }) else { return nil }
        var value: Int64 = 0
        var digits = 0
        for byte in utf8[(start + key.count)...] {
            if byte == UInt8(ascii: " ") && digits == 0 { continue }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { break }
            value = value &* 10 &+ Int64(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits > 0 ? value : nil
    }
}
