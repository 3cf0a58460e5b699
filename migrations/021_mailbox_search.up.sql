-- Migrazioni finds a migration by the beginning of one of its mailboxes'
-- addresses (local or remote, any case) through these indexes, instead of
-- reading every line the tenant (or, for operators, anyone) ever uploaded.
-- They compare bytes (COLLATE "C"), so a range [prefix, prefix+U+10FFFF)
-- uses them whatever the database's collation and in generic plans too.
CREATE INDEX migration_lines_local_user_prefix_idx ON migration_lines ((lower(local_user) COLLATE "C"));
CREATE INDEX migration_lines_remote_user_prefix_idx ON migration_lines ((lower(remote_user) COLLATE "C"));
