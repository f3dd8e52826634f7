-- Group roles with least privilege, one per process, and a read-only analyst role. They are NOLOGIN: an operator
-- creates the login roles that the processes connect as and puts each in its group (deploy/README.md, "Database
-- roles"), for example
--   CREATE ROLE ciclo_worker_app LOGIN PASSWORD '...' IN ROLE ciclo_worker;
-- The tables stay owned by the role that runs `ciclo migrate` (and `ciclo maintenance`); none of these roles may
-- change the schema.
--
-- Roles belong to the cluster, privileges to each database: several databases in one cluster (tests create many at
-- once) each run this file, so a role is created only when missing, and a concurrent creation by another database's
-- migration is not an error. Creating them needs CREATEROLE; an operator without it creates the four roles
-- beforehand (the same CREATE ROLE ... NOLOGIN statements) and this file then only grants.
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['ciclo_worker', 'ciclo_scheduler', 'ciclo_reporter', 'ciclo_analyst'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', name);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- another database's migration created it meanwhile
            END;
        END IF;
    END LOOP;
END
$$;

-- PostgreSQL 15 no longer lets everyone create objects in the public schema; a database upgraded from an older
-- version keeps the old grant, which would let any role create tables. (Only the schema's owner can revoke it; for
-- anyone else this is a warning, not an error.)
DO $$
BEGIN
    IF has_schema_privilege('public', 'public', 'CREATE') THEN
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO ciclo_worker, ciclo_scheduler, ciclo_reporter, ciclo_analyst;

-- ciclo_worker: claim, heartbeat, reap, release, fail and finish jobs (CicloQueue/SendQueue.swift), read what
-- rendering needs (CicloDelivery/TemplateStore.swift, the claim's customer and campaign), and write the history
-- row. Only the lease and outcome columns of send_jobs may change: a worker cannot re-target a job (customer,
-- channel, key, payload) or enqueue one. FOR UPDATE in the claim and the reaper needs the UPDATE grant.
GRANT SELECT, DELETE ON send_jobs TO ciclo_worker;
GRANT UPDATE (state, lease_owner, lease_expires_at, attempts, run_at, failed_at, last_error, errors)
    ON send_jobs TO ciclo_worker;
-- finishSQL returns deliveries.job_id, and RETURNING needs SELECT on what it returns: that column only.
GRANT INSERT, SELECT (job_id) ON deliveries TO ciclo_worker;
GRANT SELECT ON customers, consents, suppressions, campaigns, message_templates TO ciclo_worker;

-- ciclo_scheduler: a tick (CicloScheduler/Tick.swift and what it calls): lifecycle rules and lead scores move
-- customers, the eligibility statement writes the decision log and the jobs, expired jobs leave the queue as
-- cancelled deliveries, cursors and schedule slots advance. It reads the configuration but never changes it
-- (`ciclo config apply` and `ciclo campaign apply` are the operator's, run as the owner).
GRANT SELECT ON customers, events, consents, suppressions, campaigns, segments, customer_attributes,
    lifecycle_stages, lifecycle_transition_rules, lead_score_points, contact_policy, settings TO ciclo_scheduler;
GRANT UPDATE (last_seen_at, lead_score, lead_status, last_scored_at, stage, stage_changed_at)
    ON customers TO ciclo_scheduler;
GRANT UPDATE (next_run_at, last_run_at) ON campaigns TO ciclo_scheduler;
GRANT SELECT, UPDATE ON lifecycle_state TO ciclo_scheduler;
GRANT SELECT, INSERT, UPDATE ON send_decisions, scheduler_cursors TO ciclo_scheduler;
GRANT SELECT, INSERT ON stage_transitions, send_keys TO ciclo_scheduler;
GRANT SELECT, INSERT, DELETE ON send_jobs TO ciclo_scheduler;
GRANT INSERT ON deliveries TO ciclo_scheduler;

-- ciclo_reporter: the tracking endpoints and provider webhooks record responses (deduped through provider_events),
-- unsubscribes and bounces become suppressions, conversions arrive as events; the aggregation (run in the reporter
-- process, or as `ciclo aggregate`) reads the outcome tables and writes its rollups, cursors and attributed
-- conversions; the dashboard and /metrics read. `ciclo report --verify` also reads settings and send_keys: run it
-- as the analyst (or the owner), not as the reporter. Partitions (0011) need no grants of their own when they are
-- reached through their parent table.
GRANT SELECT, INSERT ON responses, provider_events, events TO ciclo_reporter;
GRANT SELECT, INSERT, UPDATE ON suppressions TO ciclo_reporter;
GRANT SELECT ON deliveries, customers, consents, campaigns, send_decisions, lifecycle_stages, stage_transitions,
    send_jobs TO ciclo_reporter;
GRANT SELECT, INSERT, UPDATE ON report_rollups, report_cursors, report_conversions TO ciclo_reporter;
GRANT SELECT, INSERT, DELETE ON report_pending_responses TO ciclo_reporter;

-- ciclo_analyst: reads every table, now and later (for tables the migrating role creates), and writes nothing.
-- It also suits a queue-depth autoscaler (deploy/kubernetes/worker-scaledobject.yaml).
GRANT SELECT ON ALL TABLES IN SCHEMA public TO ciclo_analyst;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO ciclo_analyst;

-- The scheduler holds its event window back to the oldest open transaction (CicloScheduler/LifecycleRules.swift,
-- receivedMark), which it can only see in pg_stat_activity for other roles' sessions through pg_read_all_stats.
-- Granting a predefined role needs CREATEROLE (PostgreSQL 15) or its admin option: without it, a warning says what
-- to run, and the scheduler still works, with a window that may miss an event whose transaction commits late.
DO $$
BEGIN
    IF NOT pg_has_role('ciclo_scheduler', 'pg_read_all_stats', 'MEMBER') THEN
        BEGIN
            GRANT pg_read_all_stats TO ciclo_scheduler;
        EXCEPTION
            WHEN unique_violation THEN
                NULL;  -- granted meanwhile by another database's migration
            WHEN insufficient_privilege THEN
                RAISE WARNING 'could not grant pg_read_all_stats to ciclo_scheduler; as a superuser run: '
                    'GRANT pg_read_all_stats TO ciclo_scheduler';
        END;
    END IF;
END
$$;
