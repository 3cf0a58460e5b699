-- Every folder of every mailbox run is a row of mailbox_run_folders (a
-- small mailbox has a dozen), and each index is one more write per row.
-- Nothing reads either table by tenant alone: every query names the
-- mailbox run (the primary key's first column) with the tenant, and a
-- deleted tenant's rows go through mailbox_runs' cascade. As migration 110
-- did for copied_messages.
DROP INDEX IF EXISTS mailbox_run_folders_tenant_id_idx;
DROP INDEX IF EXISTS verify_findings_tenant_id_idx;
