-- Messages that vanished from the old server while they were being copied
-- (expunged there, checked): neither copied nor failed, counted so the
-- panel can say where they went.
ALTER TABLE mailbox_runs ADD COLUMN gone integer NOT NULL DEFAULT 0 CHECK (gone >= 0);
