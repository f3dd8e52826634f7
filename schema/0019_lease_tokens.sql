-- A token per claim: the claiming transaction's id, which no other claim shares. Every statement that acts on a
-- claimed job (heartbeat, release, fail, throttle, finish) names the claim it acts for, not only the worker: a
-- worker that claims the same job again (its failure was written, the reply was lost, the job came due and was
-- claimed anew before the write was retried) must not have the old claim's outcome land on the new one.
ALTER TABLE send_jobs ADD COLUMN lease_token bigint;
GRANT UPDATE (lease_token) ON send_jobs TO ciclo_worker;
