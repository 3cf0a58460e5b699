-- The folder rules a mailbox's copy followed and why, as the engine
-- decided them from the old server's layout (transfer.Preset and
-- transfer.RulesWhy as JSON: codes, rendered by the page in the reader's
-- language). NULL until the copy has listed the old server's folders.
ALTER TABLE mailbox_runs ADD COLUMN rules jsonb;
