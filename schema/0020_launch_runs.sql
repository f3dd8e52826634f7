-- Ad hoc launches are marked run by number, not by time. The scheduler compared launched_at, stamped by the
-- clock of the machine that ran `ciclo campaign launch`, with last_run_at, stamped by its own: a launch from a
-- machine whose clock ran behind looked already run and was never enqueued, and a launch committed while a pass
-- ran could look older than that pass. launches_run is the launch number the scheduler last enqueued.
ALTER TABLE campaigns ADD COLUMN launches_run integer NOT NULL DEFAULT 0;
UPDATE campaigns SET launches_run = launches
WHERE kind = 'adhoc' AND launched_at IS NOT NULL AND last_run_at >= launched_at;
GRANT UPDATE (launches_run) ON campaigns TO ciclo_scheduler;
