-- Scheduler speed: what a campaign pass writes into the decision log, made cheaper without writing less.
-- (Measured on the 250,000-customer benchmark pass; see the README's scheduler section.)

-- 1. One index on the decision log for the cooldown and the frequency caps instead of two.
-- Every rule that looks at a customer's recent sends (the offer family's cooldown, the channel's frequency cap, an
-- experience campaign's daily cap) reads the same thing: that customer's final decisions (queued, holdout) by due
-- time, a handful of rows at most. The two indexes of 0007 each held one entry per queued decision; this one holds
-- one entry per final decision and serves all three probes (the few rows it finds are checked against the heap for
-- family, channel and campaign). A pass over 250,000 customers writes about 142,000 index entries fewer.
DROP INDEX send_decisions_cap;
DROP INDEX send_decisions_cooldown;
CREATE INDEX send_decisions_contact ON send_decisions (customer_id, due_at)
    WHERE outcome IN ('queued', 'holdout', 'global_holdout');

-- 2. The decision log's references to customers and campaigns, checked once per statement instead of once per row.
-- A foreign key runs one query per inserted row (a pass writes one row per candidate, 214,000 on the benchmark's
-- 250,000 customers): that was a quarter of the pass's CPU time. The same guarantees, set-based:
--   * every statement that inserts or updates decisions checks, after it ran, that each customer and campaign it
--     names exists (one anti-join over the statement's rows), and fails with foreign_key_violation otherwise;
--   * deleting customers or campaigns deletes their decisions (what ON DELETE CASCADE did);
--   * a delete cannot race a pass: it first takes send_decisions in SHARE ROW EXCLUSIVE mode, which waits for every
--     transaction that has written decisions to end (then its own delete sees their rows) and makes every later
--     writer wait for it (then the writer's check no longer sees the deleted row). A writer takes its ROW EXCLUSIVE
--     lock when its statement is parsed, before its snapshot, so there is no gap between the two. The mode
--     conflicts with itself, so two deletes queue instead of deadlocking on each other.
--   * under REPEATABLE READ or SERIALIZABLE, whose snapshot is older than the statement, the check also locks the
--     rows it names, so a concurrent delete is a serialization failure there as it is for a foreign key;
--   * the referenced ids never change (identity columns), and a statement that tries is refused, as NO ACTION did.
-- A customer delete already waited for a running pass under the foreign key (the pass held a key-share lock on
-- every candidate's row until it committed); now it waits on the table lock instead.
ALTER TABLE send_decisions DROP CONSTRAINT send_decisions_campaign_id_fkey,
                           DROP CONSTRAINT send_decisions_customer_id_fkey;

CREATE FUNCTION send_decisions_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Under READ COMMITTED a volatile function's statements each take a fresh snapshot: deletes committed since
    -- the writer's statement started are seen here. Under REPEATABLE READ or SERIALIZABLE the snapshot is the
    -- transaction's, which may predate a delete; locking the rows then fails with a serialization error if one was
    -- deleted concurrently, as a foreign key's check does. (The scheduler writes under READ COMMITTED.)
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        PERFORM 1 FROM customers c WHERE c.id IN (SELECT customer_id FROM decided) FOR KEY SHARE;
        PERFORM 1 FROM campaigns k WHERE k.id IN (SELECT campaign_id FROM decided) FOR KEY SHARE;
    END IF;
    IF EXISTS (SELECT 1 FROM decided d WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = d.customer_id)) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'a send decision names a customer that does not exist',
            HINT = 'the customer was deleted or never existed; decisions are only written for stored customers';
    END IF;
    IF EXISTS (SELECT 1 FROM decided d WHERE NOT EXISTS (SELECT 1 FROM campaigns k WHERE k.id = d.campaign_id)) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'a send decision names a campaign that does not exist',
            HINT = 'the campaign was deleted or never existed; decisions are only written for stored campaigns';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER send_decisions_references_insert AFTER INSERT ON send_decisions
    REFERENCING NEW TABLE AS decided FOR EACH STATEMENT EXECUTE FUNCTION send_decisions_check_references();
CREATE TRIGGER send_decisions_references_update AFTER UPDATE ON send_decisions
    REFERENCING NEW TABLE AS decided FOR EACH STATEMENT EXECUTE FUNCTION send_decisions_check_references();

CREATE FUNCTION send_decisions_hold_for_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE send_decisions IN SHARE ROW EXCLUSIVE MODE;
    RETURN NULL;
END;
$$;
CREATE FUNCTION send_decisions_delete_for() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'customers' THEN
        DELETE FROM send_decisions d USING gone g WHERE d.customer_id = g.id;
    ELSE
        DELETE FROM send_decisions d USING gone g WHERE d.campaign_id = g.id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE FUNCTION send_decisions_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE send_decisions;
    RETURN NULL;
END;
$$;
CREATE FUNCTION send_decisions_refuse_id_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('the id of %s row %s cannot change: the send decision log refers to rows by id', TG_TABLE_NAME, OLD.id);
    END IF;
    RETURN NEW;
END;
$$;

-- The same four triggers on both referenced tables.
DO $$
DECLARE
    referenced text;
BEGIN
    FOREACH referenced IN ARRAY ARRAY['customers', 'campaigns'] LOOP
        EXECUTE format('CREATE TRIGGER send_decisions_hold BEFORE DELETE ON %I
                            FOR EACH STATEMENT EXECUTE FUNCTION send_decisions_hold_for_delete()', referenced);
        EXECUTE format('CREATE TRIGGER send_decisions_cascade AFTER DELETE ON %I REFERENCING OLD TABLE AS gone
                            FOR EACH STATEMENT EXECUTE FUNCTION send_decisions_delete_for()', referenced);
        EXECUTE format('CREATE TRIGGER send_decisions_truncate BEFORE TRUNCATE ON %I
                            FOR EACH STATEMENT EXECUTE FUNCTION send_decisions_truncate()', referenced);
        EXECUTE format('CREATE TRIGGER send_decisions_fixed_id BEFORE UPDATE OF id ON %I
                            FOR EACH ROW EXECUTE FUNCTION send_decisions_refuse_id_change()', referenced);
    END LOOP;
END;
$$;
