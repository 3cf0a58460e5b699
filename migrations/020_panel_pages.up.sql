-- Indexes for pages that cost the same at any size: Migrazioni paged and
-- filtered by status (per tenant, and across tenants for operators), and a
-- migration's lines paged in line order with the failed (or the valid) ones
-- found without reading the rest. A run's mailboxes are found through the
-- unique (run_id, line_id) of mailbox_runs.
CREATE INDEX migrations_tenant_status_newest_idx ON migrations (tenant_id, status, created_at DESC, id DESC);
CREATE INDEX migrations_newest_idx ON migrations (created_at DESC, id DESC);
CREATE INDEX migration_lines_failed_idx ON migration_lines (migration_id, line_no) WHERE status = 'failed';
CREATE INDEX migration_lines_ok_idx ON migration_lines (migration_id, line_no) WHERE status = 'ok';
