-- What the run workers need on top of the core schema: a skipped message
-- is listed once however many attempts see it, and a mailbox run counts
-- its attempts and remembers what earlier attempts copied, so the final
-- counters of a resumed mailbox add up.
CREATE UNIQUE INDEX skipped_messages_mailbox_run_folder_uid_idx ON skipped_messages (mailbox_run_id, folder, uid);

ALTER TABLE mailbox_runs
    ADD COLUMN attempts      integer NOT NULL DEFAULT 0,
    ADD COLUMN flags_updated integer NOT NULL DEFAULT 0;

