/// Polls `condition` until it holds or `timeout` passes; returns whether it held. For waiting on other processes
/// and background work, where a fixed sleep would be either flaky or slow.
public func eventually(_ timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return false
}
