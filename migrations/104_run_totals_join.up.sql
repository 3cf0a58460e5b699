-- Migration 103's run_totals_apply looked each pending mailbox's preview up
-- through mailbox_run_shown, one call and one subquery a row: inserting a
-- run's 5,000 mailboxes took 1.7 s against 0.3 s without the counters on
-- bench-panel's database. One join does the same: 0.44 s against 0.39 s.
CREATE OR REPLACE FUNCTION run_totals_apply(minus mailbox_runs[], plus mailbox_runs[]) RETURNS void LANGUAGE sql AS $$
	WITH b AS (
		SELECT m.*, -1 AS s FROM unnest(minus) AS m
		UNION ALL
		SELECT p.*, 1 AS s FROM unnest(plus) AS p
	), x AS (
		SELECT b.run_id, b.status, b.done, b.total, b.copied, b.already_there, b.too_large, b.failed, b.bytes, b.s,
			CASE WHEN b.status = 'pending' THEN greatest(b.total, b.done,
					CASE WHEN NOT coalesce((l.preview->>'partial')::boolean, false) THEN (l.preview->>'messages')::int END, 0)
				ELSE greatest(b.total, b.done) END AS shown
		FROM b LEFT JOIN migration_lines l ON l.id = b.line_id AND b.status = 'pending'
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
