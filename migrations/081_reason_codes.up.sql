-- A reason kept for a person to read is a message key and its arguments
-- (i18n.Arg as JSON), rendered in the reader's language when a page, a
-- download or an email is made: a failed line's validation reason, a
-- mailbox run's failure, the upload's problem with the file as a whole.
-- error_text keeps what the rows written before held, shown as stored; a
-- new reason leaves it NULL.
ALTER TABLE migration_lines ADD COLUMN error_code text CHECK (error_code <> ''),
    ADD COLUMN error_args jsonb CHECK (error_args IS NULL OR jsonb_typeof(error_args) = 'array');
ALTER TABLE mailbox_runs ADD COLUMN error_code text CHECK (error_code <> ''),
    ADD COLUMN error_args jsonb CHECK (error_args IS NULL OR jsonb_typeof(error_args) = 'array');
ALTER TABLE migrations ADD COLUMN error_code text CHECK (error_code <> ''),
    ADD COLUMN error_args jsonb CHECK (error_args IS NULL OR jsonb_typeof(error_args) = 'array');
