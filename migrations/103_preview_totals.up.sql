-- The migration page's preview ("what run 1 will copy": the sum of what
-- the test logins measured) without a sum over every line per request:
-- on bench-panel's 5,000-mailbox migration that sum took 8 ms of the
-- page's ~20. Each migration keeps the sums of its validated lines'
-- previews, moved once per statement on migration_lines (a line checked,
-- added, removed, replaced) in the statement's transaction, like the runs'
-- counters of migration 101. A line's check already updates its migration's
-- row (its counters), so the lock order (line, then migration) is the one
-- validation has always had.
ALTER TABLE migrations
	ADD COLUMN preview_lines integer NOT NULL DEFAULT 0,
	ADD COLUMN preview_partial_lines integer NOT NULL DEFAULT 0,
	ADD COLUMN preview_folders integer NOT NULL DEFAULT 0,
	ADD COLUMN preview_messages integer NOT NULL DEFAULT 0,
	ADD COLUMN preview_too_large integer NOT NULL DEFAULT 0,
	ADD COLUMN preview_bytes bigint NOT NULL DEFAULT 0,
	ADD COLUMN preview_too_large_bytes bigint NOT NULL DEFAULT 0;

-- preview_totals_apply takes the counted lines (valid, with a preview) out
-- (minus) and in (plus).
CREATE FUNCTION preview_totals_apply(minus migration_lines[], plus migration_lines[]) RETURNS void LANGUAGE sql AS $$
	WITH x AS (
		SELECT m.migration_id, m.preview, -1 AS s FROM unnest(minus) AS m WHERE m.status = 'ok' AND m.preview IS NOT NULL
		UNION ALL
		SELECT p.migration_id, p.preview, 1 AS s FROM unnest(plus) AS p WHERE p.status = 'ok' AND p.preview IS NOT NULL
	), d AS (
		SELECT migration_id, sum(s)::int AS lines,
			coalesce(sum(s * coalesce((preview->>'partial')::boolean, false)::int), 0)::int AS partial_lines,
			coalesce(sum(s * (preview->>'folders')::int), 0)::int AS folders,
			coalesce(sum(s * (preview->>'messages')::int), 0)::int AS messages,
			coalesce(sum(s * (preview->>'too_large')::int), 0)::int AS too_large,
			coalesce(sum(s * (preview->>'bytes')::bigint), 0)::bigint AS bytes,
			coalesce(sum(s * (preview->>'too_large_bytes')::bigint), 0)::bigint AS too_large_bytes
		FROM x GROUP BY migration_id
	)
	UPDATE migrations m SET
		preview_lines = preview_lines + d.lines,
		preview_partial_lines = preview_partial_lines + d.partial_lines,
		preview_folders = preview_folders + d.folders,
		preview_messages = preview_messages + d.messages,
		preview_too_large = preview_too_large + d.too_large,
		preview_bytes = preview_bytes + d.bytes,
		preview_too_large_bytes = preview_too_large_bytes + d.too_large_bytes
	FROM d
	WHERE m.id = d.migration_id
		AND (d.lines, d.partial_lines, d.folders, d.messages, d.too_large, d.bytes, d.too_large_bytes)
			IS DISTINCT FROM (0, 0, 0, 0, 0, 0::bigint, 0::bigint)
$$;

CREATE FUNCTION migration_lines_preview_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM preview_totals_apply('{}'::migration_lines[],
		ARRAY(SELECT n::migration_lines FROM new_rows n WHERE n.status = 'ok' AND n.preview IS NOT NULL));
	RETURN NULL;
END
$$;

CREATE FUNCTION migration_lines_preview_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM preview_totals_apply(ARRAY(SELECT o::migration_lines FROM old_rows o WHERE o.status = 'ok' AND o.preview IS NOT NULL),
		'{}'::migration_lines[]);
	RETURN NULL;
END
$$;

CREATE FUNCTION migration_lines_preview_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	minus migration_lines[] := ARRAY(SELECT o::migration_lines FROM old_rows o WHERE o.status = 'ok' AND o.preview IS NOT NULL);
	plus migration_lines[] := ARRAY(SELECT n::migration_lines FROM new_rows n WHERE n.status = 'ok' AND n.preview IS NOT NULL);
BEGIN
	IF cardinality(minus) > 0 OR cardinality(plus) > 0 THEN
		PERFORM preview_totals_apply(minus, plus);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER migration_lines_preview_inserted AFTER INSERT ON migration_lines
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION migration_lines_preview_inserted();
CREATE TRIGGER migration_lines_preview_deleted AFTER DELETE ON migration_lines
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION migration_lines_preview_deleted();
CREATE TRIGGER migration_lines_preview_updated AFTER UPDATE ON migration_lines
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION migration_lines_preview_updated();

UPDATE migrations m SET
	preview_lines = s.lines, preview_partial_lines = s.partial_lines, preview_folders = s.folders,
	preview_messages = s.messages, preview_too_large = s.too_large, preview_bytes = s.bytes,
	preview_too_large_bytes = s.too_large_bytes
FROM (
	SELECT migration_id, count(*) AS lines, count(*) FILTER (WHERE coalesce((preview->>'partial')::boolean, false)) AS partial_lines,
		coalesce(sum((preview->>'folders')::int), 0) AS folders, coalesce(sum((preview->>'messages')::int), 0) AS messages,
		coalesce(sum((preview->>'too_large')::int), 0) AS too_large, coalesce(sum((preview->>'bytes')::bigint), 0) AS bytes,
		coalesce(sum((preview->>'too_large_bytes')::bigint), 0) AS too_large_bytes
	FROM migration_lines WHERE status = 'ok' AND preview IS NOT NULL GROUP BY migration_id) s
WHERE m.id = s.migration_id;
