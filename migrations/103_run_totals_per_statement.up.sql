-- Migration 101's counters, moved once per statement instead of once per
-- row. Row by row, a statement that touches a run's many mailboxes at once
-- (a run's start inserting 5,000, a stop cancelling the pending ones)
-- updated the run's row as many times in one transaction, and each update
-- walks the chain of the row's versions the transaction left behind: the
-- cost grew with the square of the mailboxes (seeding bench-panel's 5,000
-- took minutes). Now each statement adds one delta per run, computed from
-- its transition tables, after it has locked every mailbox row it changes
-- (so the run's row is still taken after the mailboxes', as before). A
-- running mailbox's progress contributes nothing and updates no run.
DROP TRIGGER mailbox_runs_totals_insert_delete ON mailbox_runs;
DROP TRIGGER mailbox_runs_totals_update ON mailbox_runs;
DROP FUNCTION mailbox_runs_totals();
DROP FUNCTION run_totals_add(mailbox_runs, integer);

-- run_totals_apply takes the counted rows out (minus) and in (plus): only
-- rows not running are counted, the caller passes those.
CREATE FUNCTION run_totals_apply(minus mailbox_runs[], plus mailbox_runs[]) RETURNS void LANGUAGE sql AS $$
	WITH x AS (
		SELECT b.run_id, b.status, b.done, b.total, b.copied, b.already_there, b.too_large, b.failed, b.bytes,
			mailbox_run_shown(b) AS shown, -1 AS s FROM unnest(minus) AS b
		UNION ALL
		SELECT b.run_id, b.status, b.done, b.total, b.copied, b.already_there, b.too_large, b.failed, b.bytes,
			mailbox_run_shown(b) AS shown, 1 AS s FROM unnest(plus) AS b
	), d AS (
		SELECT run_id, sum(s)::int AS mailboxes, sum(s * (status <> 'pending')::int)::int AS ended,
			sum(s * (status = 'failed')::int)::int AS failed, sum(s * done)::int AS done, sum(s * total)::int AS total,
			sum(s * copied)::int AS copied, sum(s * already_there)::int AS already_there,
			sum(s * too_large)::int AS too_large, sum(s * failed)::int AS failed_msgs, sum(s * bytes)::bigint AS bytes,
			sum(s * shown)::int AS shown
		FROM x GROUP BY run_id
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
