-- Run 2's verdict counts the messages run 1 copied that are still at the
-- destination apart from what run 2 had to bring (#12).
ALTER TABLE mailbox_runs ADD COLUMN verify_still_there integer NOT NULL DEFAULT 0;
