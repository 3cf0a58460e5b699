-- A run's totals without a sum over every mailbox per request: each run
-- keeps the sums of its mailboxes that are not being copied (pending or
-- ended), and the pages add the few being copied (bounded by the workers'
-- slots) from mailbox_runs_running_idx. The counters move only when a
-- mailbox run is inserted, deleted, or changes while pending or ended (a
-- change of state, mostly): never on the per-message progress of a running
-- mailbox. The triggers update the run's row in the statement's own
-- transaction; concurrent workers queue on that row lock, and each adds its
-- delta to the latest committed value, so the sums stay exact.
--
-- Once per statement, not per row: row by row, a statement touching a
-- run's many mailboxes at once (a run's start inserting 5,000, a stop
-- cancelling the pending ones) updated the run's row as many times in one
-- transaction, each update walking the chain of versions the transaction
-- left behind, so the cost grew with the square of the mailboxes.
--
-- Lock order: a transaction that changes a mailbox run's state takes the
-- mailbox run's row, then (at the statement's end, here) the run's, then
-- the migration's; the stop of a run (store.RequestStop) takes them in
-- that order too.
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

-- What a pending mailbox shows as its total before it starts is what its
-- test login counted (the line's preview, unless partial): kept on the
-- mailbox run when the run makes it (store.CreateMailboxRuns), so neither
-- the counters nor the pages look the line up. (A join to the lines here
-- made the planner, in a transaction that had just written them and had no
-- statistics yet, scan every line once per mailbox: minutes for 5,000.)
ALTER TABLE mailbox_runs ADD COLUMN preview_messages integer;
UPDATE mailbox_runs b SET preview_messages = (l.preview->>'messages')::int
FROM migration_lines l
WHERE l.id = b.line_id AND l.preview IS NOT NULL AND NOT coalesce((l.preview->>'partial')::boolean, false);

-- run_totals_apply takes the counted rows out (minus) and in (plus): only
-- rows not running are counted, the callers pass those.
CREATE FUNCTION run_totals_apply(minus mailbox_runs[], plus mailbox_runs[]) RETURNS void LANGUAGE sql AS $$
	WITH b AS (
		SELECT m.*, -1 AS s FROM unnest(minus) AS m
		UNION ALL
		SELECT p.*, 1 AS s FROM unnest(plus) AS p
	), d AS (
		SELECT run_id, sum(s)::int AS mailboxes, sum(s * (status <> 'pending')::int)::int AS ended,
			sum(s * (status = 'failed')::int)::int AS failed, sum(s * done)::int AS done, sum(s * total)::int AS total,
			sum(s * copied)::int AS copied, sum(s * already_there)::int AS already_there,
			sum(s * too_large)::int AS too_large, sum(s * failed)::int AS failed_msgs, sum(s * bytes)::bigint AS bytes,
			sum(s * CASE WHEN status = 'pending' THEN greatest(total, done, preview_messages, 0)
				ELSE greatest(total, done) END)::int AS shown
		FROM b GROUP BY run_id
	)
	UPDATE runs r SET
		tot_mailboxes = tot_mailboxes + d.mailboxes,
		tot_ended = tot_ended + d.ended,
		tot_failed = tot_failed + d.failed,
		tot_done = tot_done + d.done,
		tot_total = tot_total + d.total,
		tot_copied = tot_copied + d.copied,
		tot_already_there = tot_already_there + d.already_there,
		tot_too_large = tot_too_large + d.too_large,
		tot_failed_msgs = tot_failed_msgs + d.failed_msgs,
		tot_bytes = tot_bytes + d.bytes,
		tot_shown = tot_shown + d.shown
	FROM d
	WHERE r.id = d.run_id
		AND (d.mailboxes, d.ended, d.failed, d.done, d.total, d.copied, d.already_there, d.too_large, d.failed_msgs, d.bytes, d.shown)
			IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0, 0, 0, 0::bigint, 0)
$$;

CREATE FUNCTION mailbox_runs_totals_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM run_totals_apply('{}'::mailbox_runs[], ARRAY(SELECT n::mailbox_runs FROM new_rows n WHERE n.status <> 'running'));
	RETURN NULL;
END
$$;

CREATE FUNCTION mailbox_runs_totals_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM run_totals_apply(ARRAY(SELECT o::mailbox_runs FROM old_rows o WHERE o.status <> 'running'), '{}'::mailbox_runs[]);
	RETURN NULL;
END
$$;

CREATE FUNCTION mailbox_runs_totals_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	minus mailbox_runs[] := ARRAY(SELECT o::mailbox_runs FROM old_rows o WHERE o.status <> 'running');
	plus mailbox_runs[] := ARRAY(SELECT n::mailbox_runs FROM new_rows n WHERE n.status <> 'running');
BEGIN
	IF cardinality(minus) > 0 OR cardinality(plus) > 0 THEN
		PERFORM run_totals_apply(minus, plus);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER mailbox_runs_totals_inserted AFTER INSERT ON mailbox_runs
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mailbox_runs_totals_inserted();
CREATE TRIGGER mailbox_runs_totals_deleted AFTER DELETE ON mailbox_runs
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION mailbox_runs_totals_deleted();
CREATE TRIGGER mailbox_runs_totals_updated AFTER UPDATE ON mailbox_runs
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mailbox_runs_totals_updated();

UPDATE runs r SET
	tot_mailboxes = s.mailboxes, tot_ended = s.ended, tot_failed = s.failed, tot_done = s.done,
	tot_total = s.total, tot_copied = s.copied, tot_already_there = s.already_there,
	tot_too_large = s.too_large, tot_failed_msgs = s.failed_msgs, tot_bytes = s.bytes, tot_shown = s.shown
FROM (
	SELECT b.run_id, count(*) AS mailboxes, count(*) FILTER (WHERE b.status <> 'pending') AS ended,
		count(*) FILTER (WHERE b.status = 'failed') AS failed, sum(b.done) AS done, sum(b.total) AS total,
		sum(b.copied) AS copied, sum(b.already_there) AS already_there, sum(b.too_large) AS too_large,
		sum(b.failed) AS failed_msgs, sum(b.bytes) AS bytes, sum(CASE WHEN b.status = 'pending' THEN greatest(b.total, b.done, b.preview_messages, 0)
			ELSE greatest(b.total, b.done) END) AS shown
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
