-- "Riprova" also takes up a mailbox whose verification found messages
-- missing, twice or with flags behind (MailboxRun.Retryable); the run
-- totals read those through an index of their own, beside migration 101's
-- mailbox_runs_retryable_idx.
CREATE INDEX mailbox_runs_verify_retryable_idx ON mailbox_runs (run_id)
	WHERE status = 'completed_with_errors' AND (verify_missing > 0 OR verify_duplicates > 0 OR verify_flags_behind > 0);
