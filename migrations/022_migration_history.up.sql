-- The history of a migration, shown on its page: who changed what, when
-- (created, changed, corrected CSV, started now, cancelled, stopped, …).
-- The action is a code and its details are arguments, rendered in the
-- reader's language; the actor's email is kept as it was, so the history
-- still reads after the user is removed.
CREATE TABLE migration_events (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    migration_id bigint      NOT NULL,
    tenant_id    bigint      NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    user_id      bigint      REFERENCES users (id) ON DELETE SET NULL,
    actor_email  text        NOT NULL DEFAULT '',
    -- An operator acting on a customer's migration.
    operator     boolean     NOT NULL DEFAULT false,
    action       text        NOT NULL CHECK (action <> ''),
    details      text[]      NOT NULL DEFAULT '{}',
    FOREIGN KEY (migration_id, tenant_id) REFERENCES migrations (id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX migration_events_migration_idx ON migration_events (migration_id, at DESC, id DESC);
CREATE INDEX migration_events_tenant_id_idx ON migration_events (tenant_id);

-- A line refused before any check (its format) stays refused when the
-- migration's other lines are checked again (a changed server type or
-- Master User): the check cannot make it right, a corrected CSV can.
ALTER TABLE migration_lines ADD COLUMN refused boolean NOT NULL DEFAULT false;
