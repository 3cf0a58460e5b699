-- "Interrompi": a customer stops a running run. The copy jobs look at
-- stop_requested_at between their checkpoints and end their mailbox
-- cancelled with what they copied; the run then ends cancelled.
ALTER TABLE runs ADD COLUMN stop_requested_at timestamptz;
