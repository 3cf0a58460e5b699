-- Every copied message is a row of copied_messages, and each of its
-- indexes is one more write per message. Nothing reads it by tenant alone:
-- every query names the line (the primary key's first column), and a
-- deleted tenant's rows go through migration_lines' cascade, by line too.
-- Issue 13 measured about five WAL records per message copied; this index
-- was one of them.
DROP INDEX IF EXISTS copied_messages_tenant_id_idx;
