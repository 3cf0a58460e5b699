-- The audit trail: who did what, when, from where. Sign-ins, migrations
-- created, cancelled, retried and corrected, and every operator action.
-- tenant_id is the tenant acted on (NULL for what concerns none: a failed
-- sign-in with an unknown email, an operator's action on a River job);
-- operator marks an operator acting on a tenant that is not theirs.
CREATE TABLE audit_events (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    tenant_id    bigint      REFERENCES tenants (id) ON DELETE CASCADE,
    user_id      bigint      REFERENCES users (id) ON DELETE SET NULL,
    actor        text        NOT NULL DEFAULT '', -- the user's email (as typed, for a failed sign-in)
    operator     boolean     NOT NULL DEFAULT false,
    action       text        NOT NULL CHECK (action <> ''),
    migration_id bigint,
    detail       text        NOT NULL DEFAULT '',
    ip           text        NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_tenant_at_idx ON audit_events (tenant_id, at DESC, id DESC);
CREATE INDEX audit_events_at_idx ON audit_events (at DESC, id DESC);
