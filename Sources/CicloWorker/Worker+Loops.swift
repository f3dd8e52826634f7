import CicloQueue
import Logging
import Postgres

extension Worker {
    /// Claims while there is capacity, starts a handler task per job, and sleeps when idle until a NOTIFY, freed
    /// capacity, the next scheduled job or the jittered poll. Returns on shutdown (after the in-flight jobs finish
    /// or the shutdown timeout passes) or, with `drain`, once nothing is due and nothing is in flight.
    func claimLoop(_ conn: PostgresConnection) async {
        let batch = max(1, min(configuration.batchSize, configuration.concurrency))
        // Wait for half a batch of free slots before claiming again, so a busy worker claims in batches rather
        // than one job per completion.
        let refill = max(1, batch / 2)
        var failures = 0
        await withTaskGroup(of: Void.self) { handlers in
            while !stopping.isSet {
                let running = ledger.runningCount
                let free = configuration.concurrency - running
                if free < refill && running > 0 {
                    await claimBell.wait(timeout: configuration.pollInterval)
                    continue
                }
                let want = min(batch, free)
                let jobs: [ClaimedJob]
                do {
                    jobs = try await queue.claim(
                        owner: configuration.workerID, limit: want, channels: configuration.channels,
                        campaignID: configuration.campaignID, lease: configuration.lease, on: conn)
                    failures = 0
                } catch {
                    failures += 1
                    logger.warning("claim failed; retrying", metadata: ["error": "\(error)"])
                    await claimBell.wait(timeout: backoff(failures))
                    continue
                }
                ledger.hold(jobs)
                for job in jobs {
                    if let reason = job.blockedReason {
                        // Consent was withdrawn or the customer suppressed since enqueue: never deliver.
                        ledger.started(job)
                        ledger.finished(job, .suppressed(reason: reason))
                        recordBell.ring()
                        continue
                    }
                    ledger.started(job)
                    handlers.addTask {
                        let outcome = await handler.handle(job)
                        ledger.finished(job, outcome)
                        recordBell.ring()
                        claimBell.ring()
                    }
                }
                if jobs.count == want { continue }
                if configuration.drain && jobs.isEmpty && ledger.runningCount == 0 { break }
                await claimBell.wait(timeout: await idleWait(conn, claimedNothing: jobs.isEmpty))
            }
            await waitForRunning(until: ContinuousClock.now + configuration.shutdownTimeout)
            if ledger.runningCount > 0 {
                logger.warning("shutdown timeout passed; cancelling jobs still running", metadata: [
                    "running": "\(ledger.runningCount)"
                ])
                // Cancelled first and released after: a transfer notices cancellation at its next progress callback
                // (about a second), and one that had already handed the message over reports it sent, which is then
                // recorded. Released at once, the job would be sent again by another worker.
                ledger.cancelRunning()
                handlers.cancelAll()
                await waitForRunning(until: ContinuousClock.now + Self.cancellationGrace)
            }
            let release = ledger.abandonRunning()
            handlers.cancelAll()
            await releaseJobs(release, conn)
        }
    }

    /// How long cancelled handlers have to return at shutdown before their jobs are released regardless.
    static let cancellationGrace: Duration = .seconds(2)

    /// How long an idle worker sleeps: the jittered poll, or less when a scheduled job comes due sooner.
    private func idleWait(_ conn: PostgresConnection, claimedNothing: Bool) async -> Duration {
        let poll = jittered(configuration.pollInterval)
        guard claimedNothing,
              let seconds = try? await queue.secondsUntilNextDue(
                  channels: configuration.channels, campaignID: configuration.campaignID, on: conn)
        else { return claimedNothing ? poll : .milliseconds(10) }
        return min(poll, .milliseconds(max(1, Int64(seconds * 1000) + 1)))
    }

    private func waitForRunning(until deadline: ContinuousClock.Instant) async {
        while ledger.runningCount > 0 {
            let left = deadline - .now
            if left <= .zero { return }
            await claimBell.wait(timeout: min(left, .milliseconds(100)))
        }
    }

    private func releaseJobs(_ leases: [ClaimedJob.Lease], _ conn: PostgresConnection) async {
        guard !leases.isEmpty else { return }
        do {
            let released = try await queue.release(leases, owner: configuration.workerID, on: conn)
            ledger.countReleased(released)
            logger.info("released jobs at shutdown", metadata: ["count": "\(released)"])
        } catch {
            logger.error("could not release jobs; their leases will expire and the reaper returns them",
                         metadata: ["error": "\(error)", "count": "\(leases.count)"])
        }
    }

    /// Records outcomes in batches: whatever has accumulated while the previous batch was being written goes in
    /// the next single round trip. Stops when the claim loop is done and nothing is left to record.
    func recordLoop(_ conn: PostgresConnection) async {
        var failures = 0
        while true {
            let batch = ledger.takePending(max: 2000)
            if batch.isEmpty {
                if Task.isCancelled { return }
                await recordBell.wait(timeout: .seconds(1))
                continue
            }
            do {
                let result = try await queue.record(
                    batch, owner: configuration.workerID, retry: configuration.retryPolicy, on: conn)
                failures = 0
                let lost = ledger.recorded(batch, result)
                if !lost.isEmpty {
                    logger.warning("lease lost before the outcome was recorded; another worker has these jobs",
                                   metadata: ["jobs": "\(lost)"])
                }
            } catch {
                failures += 1
                ledger.putBack(batch)
                logger.warning("recording outcomes failed; retrying", metadata: ["error": "\(error)"])
                if Task.isCancelled { return }
                try? await Task.sleep(for: backoff(failures))
            }
        }
    }

    /// Waits, within a bound, until the recorder has written every outcome (including a batch it is writing
    /// now), so that cancelling it afterwards never interrupts a write.
    func finish() async {
        let deadline = ContinuousClock.now + .seconds(10)
        while ledger.unrecordedCount > 0 && ContinuousClock.now < deadline {
            recordBell.ring()
            try? await Task.sleep(for: .milliseconds(5))
        }
        if ledger.unrecordedCount > 0 {
            logger.error("outcomes not recorded at exit; their leases expire and the jobs run again with the same key",
                         metadata: ["count": "\(ledger.unrecordedCount)"])
        }
    }

    /// Heartbeats every third of the lease, and reaps expired leases every reap interval.
    func maintenanceLoop(_ conn: PostgresConnection) async {
        let heartbeatEvery = configuration.lease / 3
        var nextHeartbeat = ContinuousClock.now + heartbeatEvery
        while !Task.isCancelled {
            do {
                if ContinuousClock.now >= nextHeartbeat {
                    nextHeartbeat = .now + heartbeatEvery
                    let leases = ledger.heldLeases
                    let kept = try await queue.heartbeat(
                        leases, owner: configuration.workerID, lease: configuration.lease, on: conn)
                    // A job recorded while the heartbeat ran has left the queue, so it is not renewed without being
                    // lost; the recorder reports those whose outcome finds the lease gone. A job still running that
                    // was not renewed has certainly been taken back.
                    let lost = ledger.stillRunning(leases.filter { !kept.contains($0.id) })
                    if !lost.isEmpty {
                        logger.warning("leases lost while their jobs ran; another worker may run them too",
                                       metadata: ["jobs": "\(lost)"])
                    }
                }
                let (requeued, failed) = try await queue.reap(on: conn)
                if requeued + failed > 0 {
                    logger.notice("reaped expired leases", metadata: ["requeued": "\(requeued)", "failed": "\(failed)"])
                }
            } catch {
                logger.warning("heartbeat or reap failed; retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: min(jittered(configuration.reapInterval), heartbeatEvery))
        }
    }

    func jittered(_ duration: Duration) -> Duration {
        duration * Double.random(in: 0.75...1.25)
    }

    func backoff(_ failures: Int) -> Duration {
        RetryPolicy(base: .milliseconds(100), cap: .seconds(5)).delay(afterAttempt: failures) + .milliseconds(50)
    }
}
