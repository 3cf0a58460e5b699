-- What a test login measured of a line's mailbox (transfer.Preview as
-- JSON): folders, messages and size to copy, what stays behind. NULL when
-- not measured (older lines, or the measurement failed).
ALTER TABLE migration_lines ADD COLUMN preview jsonb;
