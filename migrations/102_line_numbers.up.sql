-- Line numbers are never reused: mailboxes added to a migration continue
-- after the highest number it ever had, not after the highest it has now,
-- so a removed line's number (in the history, in a customer's notes)
-- never names another mailbox.
ALTER TABLE migrations ADD COLUMN last_line_no integer NOT NULL DEFAULT 0;
UPDATE migrations m SET last_line_no = l.n
FROM (SELECT migration_id, max(line_no) AS n FROM migration_lines GROUP BY migration_id) l
WHERE l.migration_id = m.id;
