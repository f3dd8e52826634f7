import Foundation
import RenderSamples

// `ciclo-render-profile CHANNEL COUNT`: renders COUNT messages of one channel with the samples `ciclo-bench render`
// times, and prints the rate. Synchronous on purpose: it exists to run under `valgrind --tool=callgrind`, which
// crashes on the threads Swift's async main starts (valgrind 3.19), and instruction counts per message are the
// figure a shared, noisy machine cannot spoil. `make profile-render` runs it that way.
let arguments = CommandLine.arguments
let samples = RenderSamples()
let all = samples.renderers + samples.references
let channels = all.map(\.0)
guard arguments.count == 3, let render = all.first(where: { $0.0 == arguments[1] })?.1,
    let count = Int(arguments[2]), (1...1_000_000).contains(count)
else {
    let usage = "usage: ciclo-render-profile \(channels.joined(separator: "|")) COUNT (1 to 1,000,000)\n"
    FileHandle.standardError.write(Data(usage.utf8))
    exit(64)
}
let clock = ContinuousClock()
let start = clock.now
var bytes = 0
for i in 0..<count { bytes += try render(i) }
let elapsed = clock.now - start
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print("\(arguments[1]): \(count) messages, \(bytes / count) bytes each, \(Int(Double(count) / seconds)) messages/s")
