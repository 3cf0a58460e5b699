-- A line of a mailbox's log is an event: a message key (log.<area>.<what>)
-- and its arguments (i18n.Arg as JSON), rendered in the reader's language
-- when a page or a download is made. message keeps the text of the lines
-- written before events, shown as stored; a new line has no message.
ALTER TABLE mailbox_logs ALTER COLUMN message DROP NOT NULL;
ALTER TABLE mailbox_logs ADD COLUMN code text CHECK (code <> '');
ALTER TABLE mailbox_logs ADD COLUMN args jsonb CHECK (args IS NULL OR jsonb_typeof(args) = 'array');
ALTER TABLE mailbox_logs ADD CONSTRAINT mailbox_logs_code_or_message CHECK (code IS NOT NULL OR message IS NOT NULL);
