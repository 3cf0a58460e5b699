-- Migrazioni's search matches a migration's name as a substring (ILIKE
-- '%q%'): without an index that reads every migration of the tenant (the
-- big tenant of `make bench-panel`: 10,000 rows for a search that finds
-- one). A trigram index answers it for any query of three characters or
-- more. pg_trgm ships with PostgreSQL (Debian's postgresql-15 package) and
-- is a trusted extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX migrations_name_trgm_idx ON migrations USING gin (name gin_trgm_ops);
