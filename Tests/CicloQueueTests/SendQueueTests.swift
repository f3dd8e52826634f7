import Foundation
import CicloQueue
import CicloTestSupport
import Postgres
import Testing

@Suite("Send queue statements")
struct SendQueueTests {
    let queue = SendQueue()

    @Test("a key is enqueued at most once, even after its job finished and left the queue")
    func idempotentEnqueue() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let customer = try await Seed.customers(1, on: conn)[0]
        try await conn.query("UPDATE customers SET stage = 'nurture' WHERE id = $1", [customer])
        let job = NewJob(idempotencyKey: "welcome-\(customer)", customerID: customer, channel: "email")
        #expect(try await queue.enqueue([job, job], on: conn) == 1, "a key repeated in one call counts once")
        #expect(try await queue.enqueue([job], on: conn) == 0)

        let claimed = try await queue.claim(owner: "w1", limit: 10, channels: nil, campaignID: nil, lease: .seconds(30), on: conn)
        #expect(claimed.count == 1)
        let recorded = try await queue.record([(claimed[0], .sent(providerMessageID: "p-1"))], owner: "w1",
                                              retry: RetryPolicy(), on: conn)
        #expect(recorded.finished == [claimed[0].id])
        #expect(try await queue.enqueue([job], on: conn) == 0, "the finished send is not enqueued again")
        #expect(try await conn.query("SELECT count(*)::int8 FROM send_jobs").scalar(Int.self) == 0)
        let delivery = try await conn.query(
            "SELECT outcome, provider_message_id, attempts, stage FROM deliveries WHERE idempotency_key = $1",
            [job.idempotencyKey]).single()
        #expect(try delivery.decode(String.self, at: 0) == "sent")
        #expect(try delivery.decode(String?.self, at: 3) == "nurture", "the stage the customer was in when sent")
        #expect(try delivery.decode(String.self, at: 1) == "p-1")
        #expect(try delivery.decode(Int.self, at: 2) == 1)
        await conn.close()
        await db.drop()
    }

    @Test("a claimed job carries its customer as text: every column, scalar attributes as the server writes them")
    func claimedCustomerText() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let customer = try await Seed.customers(1, on: conn)[0]
        try await conn.query("""
            UPDATE customers SET locale = 'pt-PT', stage = '', persona = NULL, phone = '+351912345678',
                   attributes = '{"first_name": "Ana", "price": 9.90, "visits": 12, "big": 1e3, "vip": true,
                                  "note": "a \\"quoted\\" ação", "nested": {"a": 1}, "list": [1, 2], "gone": null,
                                  "empty": ""}'
            WHERE id = $1
            """, [customer])
        let job = NewJob(idempotencyKey: "text-\(customer)", customerID: customer, channel: "email")
        _ = try await queue.enqueue([job], on: conn)
        let claimed = try await queue.claim(
            owner: "w1", limit: 1, channels: nil, campaignID: nil, lease: .seconds(30), on: conn)
        let text = try #require(claimed.first?.customer)
        let email = try await conn.query("SELECT email FROM customers WHERE id = $1", [customer]).scalar(String.self)
        #expect(text.fields["email"] == email)
        #expect(text.fields["locale"] == "pt-PT")
        #expect(text.fields["phone"] == "+351912345678")
        #expect(text.fields["stage"] == "", "an empty column is kept, as empty")
        #expect(text.fields["persona"] == nil && text.fields["push_token"] == nil)
        #expect(text.attributes == [
            "first_name": "Ana", "price": "9.90", "visits": "12", "big": "1000", "vip": "true",
            "note": "a \"quoted\" ação", "empty": "",
        ])
        // The array's shape is checked: a claim that wrote something else is an error, not a half-read customer.
        #expect(throws: CustomerTextError.self) { try CustomerText(claimed: ["only one"]) }
        #expect(throws: CustomerTextError.self) {
            try CustomerText(claimed: Array(repeating: nil, count: CustomerText.columns.count) + ["name without value"])
        }
        await conn.close()
        await db.drop()
    }

    @Test("claims follow priority then run_at, skip future jobs, and two claimers never share a job")
    func claimOrderAndSkipLocked() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let customers = try await Seed.customers(4, on: conn)
        try await queue.enqueue([
            NewJob(idempotencyKey: "low-old", customerID: customers[0], channel: "email", priority: 0),
            NewJob(idempotencyKey: "high", customerID: customers[1], channel: "email", priority: 5),
            NewJob(idempotencyKey: "sms", customerID: customers[2], channel: "sms", priority: 9),
        ], on: conn)
        try await conn.query("INSERT INTO send_keys VALUES ('later')")
        try await conn.query(
            "INSERT INTO send_jobs (idempotency_key, customer_id, channel, run_at) VALUES ('later', $1, 'email', now() + interval '1 hour')",
            [customers[3]])
        let emailFirst = try await queue.claim(owner: "w1", limit: 1, channels: ["email"], campaignID: nil,
                                               lease: .seconds(30), on: conn)
        #expect(emailFirst.map(\.idempotencyKey) == ["high"])
        let rest = try await queue.claim(owner: "w1", limit: 10, channels: nil, campaignID: nil, lease: .seconds(30), on: conn)
        #expect(rest.map(\.idempotencyKey).sorted() == ["low-old", "sms"], "the job due in an hour is not claimed")

        // Two claimers racing over 200 jobs: each job goes to exactly one of them.
        let more = try await Seed.customers(200, on: conn)
        try await Seed.jobs(for: more, on: conn)
        let a = try await db.connect(), b = try await db.connect()
        async let fromA = claimAll(owner: "a", on: a)
        async let fromB = claimAll(owner: "b", on: b)
        let (idsA, idsB) = try await (fromA, fromB)
        #expect(idsA.count + idsB.count == 200)
        #expect(Set(idsA).isDisjoint(with: idsB))
        for c in [conn, a, b] { await c.close() }
        await db.drop()
    }

    private func claimAll(owner: String, on conn: PostgresConnection) async throws -> [Int64] {
        var ids: [Int64] = []
        while true {
            let jobs = try await queue.claim(owner: owner, limit: 7, channels: nil, campaignID: nil, lease: .seconds(30), on: conn)
            if jobs.isEmpty { return ids }
            ids += jobs.map(\.id)
        }
    }

    @Test("consent is re-checked at claim: withdrawn consent and suppressions come back blocked with a reason")
    func consentRecheck() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let customers = try await Seed.customers(3, on: conn)
        try await Seed.jobs(for: customers, on: conn)
        try await conn.query("UPDATE consents SET granted = false WHERE customer_id = $1", [customers[1]])
        try await conn.query("INSERT INTO suppressions (customer_id, channel, reason) VALUES ($1, 'email', 'hard_bounce')",
                             [customers[2]])
        let claimed = try await queue.claim(owner: "w", limit: 10, channels: nil, campaignID: nil, lease: .seconds(30), on: conn)
        let reasons = Dictionary(uniqueKeysWithValues: claimed.map { ($0.customerID, $0.blockedReason) })
        #expect(reasons[customers[0]] == .some(nil))
        #expect(reasons[customers[1]] == "no_consent")
        #expect(reasons[customers[2]] == "suppressed_hard_bounce")
        await conn.close()
        await db.drop()
    }

    @Test("only the lease owner can record; heartbeats extend leases; the reaper returns expired jobs and counts the attempt")
    func leases() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let customers = try await Seed.customers(2, on: conn)
        try await Seed.jobs(for: customers, maxAttempts: 1, on: conn)
        try await conn.query("UPDATE send_jobs SET max_attempts = 3 WHERE customer_id = $1", [customers[0]])
        let jobs = try await queue.claim(owner: "w1", limit: 2, channels: nil, campaignID: nil, lease: .milliseconds(300), on: conn)
        #expect(jobs.count == 2)

        let intruder = try await queue.record(jobs.map { ($0, JobOutcome.sent(providerMessageID: nil)) }, owner: "w2",
                                              retry: RetryPolicy(), on: conn)
        #expect(intruder.all.isEmpty, "a worker that does not hold the lease changes nothing")

        let kept = try await queue.heartbeat(jobs.map(\.lease), owner: "w1", lease: .seconds(30), on: conn)
        #expect(kept == Set(jobs.map(\.id)))
        #expect(try await queue.reap(on: conn) == (0, 0), "renewed leases are not reaped")

        try await conn.query("UPDATE send_jobs SET lease_expires_at = now() - interval '1 second'")
        let reaped = try await queue.reap(on: conn)
        #expect(reaped.requeued == 1 && reaped.failed == 1, "the job on its last attempt fails, the other comes back")
        let rows = try await conn.query("SELECT customer_id, state, attempts, jsonb_array_length(errors) FROM send_jobs ORDER BY customer_id")
        #expect(try rows.map { try $0.decode(String.self, at: 1) } == ["due", "failed"])
        #expect(try rows.map { try $0.decode(Int.self, at: 2) } == [1, 1], "the attempt stays counted")
        #expect(try rows.map { try $0.decode(Int.self, at: 3) } == [1, 1], "the lost lease is in the error history")
        let late = try await queue.record(jobs.map { ($0, JobOutcome.failed(.transient("timeout"))) }, owner: "w1",
                                          retry: RetryPolicy(), on: conn)
        #expect(late.all.isEmpty, "after the reaper took the jobs back, the old owner's failure changes nothing")
        await conn.close()
        await db.drop()
    }

    @Test("a sent outcome lands after the lease lapsed, unless another worker claimed the job since")
    func finalOutcomeAfterLapsedLease() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let customers = try await Seed.customers(3, on: conn)
        try await Seed.jobs(for: customers, maxAttempts: 1, on: conn)
        // customers[0] and [2] have attempts left (the reaper makes them due again); [1] is on its last one (failed).
        try await conn.query("UPDATE send_jobs SET max_attempts = 3 WHERE customer_id <> $1", [customers[1]])
        let jobs = try await queue.claim(owner: "w1", limit: 3, channels: nil, campaignID: nil, lease: .seconds(30), on: conn)
        try #require(jobs.count == 3)
        let byCustomer = Dictionary(uniqueKeysWithValues: jobs.map { ($0.customerID, $0) })
        try await conn.query("UPDATE send_jobs SET lease_expires_at = now() - interval '1 second'")
        #expect(try await queue.reap(on: conn) == (2, 1))
        // Another worker claims one of the due jobs; the other stays due.
        try await conn.query("UPDATE send_jobs SET run_at = now() - interval '1 second' WHERE customer_id = $1", [customers[2]])
        try await conn.query("UPDATE send_jobs SET run_at = now() + interval '1 hour' WHERE customer_id = $1", [customers[0]])
        let reclaimed = try await queue.claim(owner: "w2", limit: 3, channels: nil, campaignID: nil, lease: .seconds(30), on: conn)
        #expect(reclaimed.map(\.customerID) == [customers[2]])

        let late = try await queue.record(jobs.map { ($0, JobOutcome.sent(providerMessageID: "p-\($0.customerID)")) },
                                          owner: "w1", retry: RetryPolicy(), on: conn)
        #expect(Set(late.finished) == [byCustomer[customers[0]]!.id, byCustomer[customers[1]]!.id],
                "the due job and the failed one are recorded as sent; the job w2 now holds is not")
        let queued = try await conn.query("SELECT customer_id, state, lease_owner FROM send_jobs").single()
        #expect(try queued.decode(Int64.self, at: 0) == customers[2])
        #expect(try queued.decode(String.self, at: 1) == "running" && queued.decode(String?.self, at: 2) == "w2")
        let delivered = try await conn.query(
            "SELECT customer_id, outcome, provider_message_id FROM deliveries ORDER BY customer_id")
        #expect(try delivered.map { try $0.decode(Int64.self, at: 0) } == [customers[0], customers[1]])
        #expect(try delivered.map { try $0.decode(String.self, at: 1) } == ["sent", "sent"])
        #expect(try delivered.map { try $0.decode(String.self, at: 2) } == ["p-\(customers[0])", "p-\(customers[1])"])
        await conn.close()
        await db.drop()
    }

    @Test("an outcome or heartbeat of an older claim never lands on the same worker's newer claim of the job")
    func olderClaimsDoNotTouchNewerOnes() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        try await Seed.jobs(for: try await Seed.customers(1, on: conn), maxAttempts: 5, on: conn)
        let first = try await queue.claim(owner: "w1", limit: 1, channels: nil, campaignID: nil, lease: .seconds(30), on: conn)
        try #require(first.count == 1)
        // The failure is written (the job comes due at once), but suppose its reply was lost: the worker claims the
        // job again, then writes the same outcome a second time, and heartbeats both claims.
        let failure = JobOutcome.failed(.transient("timeout"))
        #expect(try await queue.record([(first[0], failure)], owner: "w1", retry: RetryPolicy(base: .zero), on: conn).retried
                == [first[0].id])
        try await conn.query("UPDATE send_jobs SET run_at = now() - interval '1 second'")
        let second = try await queue.claim(owner: "w1", limit: 1, channels: nil, campaignID: nil, lease: .seconds(30), on: conn)
        try #require(second.count == 1 && second[0].id == first[0].id)
        #expect(second[0].leaseToken != first[0].leaseToken)
        let stale = try await queue.record([(first[0], failure)], owner: "w1", retry: RetryPolicy(base: .zero), on: conn)
        #expect(stale.all.isEmpty, "the older claim's outcome changes nothing")
        let staleSent = try await queue.record([(first[0], .sent(providerMessageID: nil))], owner: "w1",
                                               retry: RetryPolicy(), on: conn)
        #expect(staleSent.all.isEmpty)
        #expect(try await queue.heartbeat([first[0].lease], owner: "w1", lease: .seconds(300), on: conn).isEmpty)
        #expect(try await queue.release([first[0].lease], owner: "w1", on: conn) == 0)
        let row = try await conn.query("SELECT state, attempts, jsonb_array_length(errors) FROM send_jobs").single()
        #expect(try row.decode(String.self, at: 0) == "running")
        #expect(try row.decode(Int.self, at: 1) == 2 && row.decode(Int.self, at: 2) == 1, "one failure on record, not two")
        // The newer claim is untouched and records normally.
        #expect(try await queue.heartbeat([second[0].lease], owner: "w1", lease: .seconds(30), on: conn) == [second[0].id])
        let done = try await queue.record([(second[0], .sent(providerMessageID: nil))], owner: "w1", retry: RetryPolicy(), on: conn)
        #expect(done.finished == [second[0].id])
        await conn.close()
        await db.drop()
    }

    @Test("a NUL in a provider's reply or message id is stored as U+FFFD instead of failing the whole record")
    func nulInProviderText() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let customers = try await Seed.customers(3, on: conn)
        try await Seed.jobs(for: customers, maxAttempts: 1, on: conn)
        let jobs = try await queue.claim(owner: "w1", limit: 3, channels: nil, campaignID: nil, lease: .seconds(30), on: conn)
        try #require(jobs.count == 3)
        let outcomes: [JobOutcome] = [
            .sent(providerMessageID: "id\u{0}1"), .failed(.permanent("HTTP 400 from x: bad\u{0}body")),
            .throttled(message: "HTTP 429 \u{0}", retryAfter: nil),
        ]
        let result = try await queue.record(Array(zip(jobs, outcomes)), owner: "w1", retry: RetryPolicy(), on: conn)
        #expect(result.all == Set(jobs.map(\.id)), "the whole batch is recorded")
        #expect(try await conn.query("SELECT provider_message_id FROM deliveries").scalar(String.self) == "id\u{FFFD}1")
        let errors = try await conn.query("SELECT last_error FROM send_jobs ORDER BY id").map { try $0.decode(String.self, at: 0) }
        #expect(Set(errors) == ["HTTP 400 from x: bad\u{FFFD}body", "throttled: HTTP 429 \u{FFFD}"])
        await conn.close()
        await db.drop()
    }

    @Test("a throttled job goes back to due after its delay with the attempt given back, never failed, only by its owner")
    func throttled() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let customers = try await Seed.customers(1, on: conn)
        try await Seed.jobs(for: customers, maxAttempts: 1, on: conn)
        for round in 1...3 {
            try await conn.query("UPDATE send_jobs SET run_at = now()")
            let jobs = try await queue.claim(owner: "w1", limit: 1, channels: nil, campaignID: nil, lease: .seconds(30), on: conn)
            try #require(jobs.count == 1, "round \(round): the throttled job is claimable again")
            let outcome = JobOutcome.throttled(message: "HTTP 429 from x", retryAfter: .seconds(3))
            #expect(try await queue.record([(jobs[0], outcome)], owner: "w2", retry: RetryPolicy(), on: conn).all.isEmpty)
            let before = Date().timeIntervalSince1970
            let result = try await queue.record([(jobs[0], outcome)], owner: "w1", retry: RetryPolicy(), on: conn)
            let after = Date().timeIntervalSince1970
            #expect(result.throttled == [jobs[0].id])
            let row = try await conn.query("""
                SELECT state, attempts, jsonb_array_length(errors), last_error, extract(epoch FROM run_at)::float8
                FROM send_jobs
                """).single()
            #expect(try row.decode(String.self, at: 0) == "due", "round \(round): its one attempt was never used")
            #expect(try row.decode(Int.self, at: 1) == 0)
            #expect(try row.decode(Int.self, at: 2) == 0, "a throttle is not in the error history")
            #expect(try row.decode(String.self, at: 3) == "throttled: HTTP 429 from x")
            // Due at the record's now() plus Retry-After and up to a second of jitter: timed against the call's bounds,
            // so a slow machine cannot fail it.
            let due = try row.decode(Double.self, at: 4)
            #expect(due >= before + 3 - 0.01 && due <= after + 4 + 0.01, "due \(due - before) s after the call began")
        }
        await conn.close()
        await db.drop()
    }

    @Test("full-jitter backoff stays within [0, min(cap, base·2^(n-1))] and honours Retry-After")
    func backoff() {
        let policy = RetryPolicy(base: .seconds(1), cap: .seconds(30))
        #expect(policy.delay(afterAttempt: 1, random: { $0.upperBound }) == .seconds(1))
        #expect(policy.delay(afterAttempt: 4, random: { $0.upperBound }) == .seconds(8))
        #expect(policy.delay(afterAttempt: 40, random: { $0.upperBound }) == .seconds(30))
        #expect(policy.delay(afterAttempt: 3, random: { $0.lowerBound }) == .zero)
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(120), random: { $0.upperBound }) == .seconds(120))
        for attempt in 1...10 {
            let d = policy.delay(afterAttempt: attempt)
            #expect(d >= .zero && d <= .seconds(30))
        }
    }
}
