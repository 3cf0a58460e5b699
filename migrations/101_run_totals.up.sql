-- A run's totals without a sum over every mailbox per request: each run
-- keeps the sums of its mailboxes that are not being copied (pending or
-- ended), and the pages add the few being copied (bounded by the workers'
-- slots) from mailbox_runs_running_idx. The counters move only when a
-- mailbox run is inserted, deleted, or changes while pending or ended (a
-- change of state, mostly): never on the per-message progress of a running
-- mailbox. The trigger updates the run's row in the statement's own
-- transaction; concurrent workers queue on that row lock, and each adds its
-- delta to the latest committed value, so the sums stay exact.
--
-- Lock order: a transaction that changes a mailbox run's state takes the
-- mailbox run's row, then (here) the run's, then the migration's; the stop
-- of a run (store.RequestStop) takes them in that order too.
ALTER TABLE runs
	ADD COLUMN tot_mailboxes integer NOT NULL DEFAULT 0,   -- pending or ended
	ADD COLUMN tot_ended integer NOT NULL DEFAULT 0,
	ADD COLUMN tot_failed integer NOT NULL DEFAULT 0,      -- mailboxes failed
	ADD COLUMN tot_done integer NOT NULL DEFAULT 0,
	ADD COLUMN tot_total integer NOT NULL DEFAULT 0,
	ADD COLUMN tot_copied integer NOT NULL DEFAULT 0,
	ADD COLUMN tot_already_there integer NOT NULL DEFAULT 0,
	ADD COLUMN tot_too_large integer NOT NULL DEFAULT 0,
	ADD COLUMN tot_failed_msgs integer NOT NULL DEFAULT 0,
	ADD COLUMN tot_bytes bigint NOT NULL DEFAULT 0,
	ADD COLUMN tot_shown integer NOT NULL DEFAULT 0;

-- What a pending mailbox shows as its total before it starts: what its
-- test login counted (the line's preview), unless partial.
CREATE FUNCTION mailbox_run_shown(b mailbox_runs) RETURNS integer LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN b.status = 'pending' THEN greatest(b.total, b.done, (
			SELECT (l.preview->>'messages')::int FROM migration_lines l
			WHERE l.id = b.line_id AND NOT coalesce((l.preview->>'partial')::boolean, false)), 0)
		ELSE greatest(b.total, b.done) END
$$;

CREATE FUNCTION run_totals_add(b mailbox_runs, sign integer) RETURNS void LANGUAGE sql AS $$
	UPDATE runs SET
		tot_mailboxes = tot_mailboxes + sign,
		tot_ended = tot_ended + sign * (b.status <> 'pending')::int,
		tot_failed = tot_failed + sign * (b.status = 'failed')::int,
		tot_done = tot_done + sign * b.done,
		tot_total = tot_total + sign * b.total,
		tot_copied = tot_copied + sign * b.copied,
		tot_already_there = tot_already_there + sign * b.already_there,
		tot_too_large = tot_too_large + sign * b.too_large,
		tot_failed_msgs = tot_failed_msgs + sign * b.failed,
		tot_bytes = tot_bytes + sign * b.bytes,
		tot_shown = tot_shown + sign * mailbox_run_shown(b)
	WHERE id = b.run_id
$$;

CREATE FUNCTION mailbox_runs_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND OLD.status <> 'running' AND NEW.status <> 'running'
		AND (OLD.run_id, OLD.status, OLD.done, OLD.total, OLD.copied, OLD.already_there, OLD.too_large, OLD.failed, OLD.bytes)
			IS NOT DISTINCT FROM (NEW.run_id, NEW.status, NEW.done, NEW.total, NEW.copied, NEW.already_there, NEW.too_large, NEW.failed, NEW.bytes) THEN
		RETURN NULL; -- nothing counted changed (an error text, a time)
	END IF;
	IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'running' THEN
		PERFORM run_totals_add(OLD, -1);
	END IF;
	IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status <> 'running' THEN
		PERFORM run_totals_add(NEW, 1);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER mailbox_runs_totals_insert_delete AFTER INSERT OR DELETE ON mailbox_runs
	FOR EACH ROW EXECUTE FUNCTION mailbox_runs_totals();
-- A running mailbox's progress (its row updated per message) skips the
-- trigger in the WHEN, without a function call.
CREATE TRIGGER mailbox_runs_totals_update AFTER UPDATE ON mailbox_runs
	FOR EACH ROW WHEN (OLD.status <> 'running' OR NEW.status <> 'running')
	EXECUTE FUNCTION mailbox_runs_totals();

UPDATE runs r SET
	tot_mailboxes = s.mailboxes, tot_ended = s.ended, tot_failed = s.failed, tot_done = s.done,
	tot_total = s.total, tot_copied = s.copied, tot_already_there = s.already_there,
	tot_too_large = s.too_large, tot_failed_msgs = s.failed_msgs, tot_bytes = s.bytes, tot_shown = s.shown
FROM (
	SELECT b.run_id, count(*) AS mailboxes, count(*) FILTER (WHERE b.status <> 'pending') AS ended,
		count(*) FILTER (WHERE b.status = 'failed') AS failed, sum(b.done) AS done, sum(b.total) AS total,
		sum(b.copied) AS copied, sum(b.already_there) AS already_there, sum(b.too_large) AS too_large,
		sum(b.failed) AS failed_msgs, sum(b.bytes) AS bytes, sum(mailbox_run_shown(b)) AS shown
	FROM mailbox_runs b WHERE b.status <> 'running' GROUP BY b.run_id) s
WHERE r.id = s.run_id;

-- The pages' live part and the rest of the totals, each read through an
-- index of its own: the mailboxes being copied; those "Riprova" may take
-- again (MailboxRun.Retryable; their passwords are looked up); the first
-- start and the last end.
CREATE INDEX mailbox_runs_running_idx ON mailbox_runs (run_id) WHERE status = 'running';
CREATE INDEX mailbox_runs_retryable_idx ON mailbox_runs (run_id)
	WHERE status = 'failed' OR status = 'completed_with_errors' AND failed > 0;
CREATE INDEX mailbox_runs_started_idx ON mailbox_runs (run_id, started_at);
CREATE INDEX mailbox_runs_ended_idx ON mailbox_runs (run_id, ended_at);
