-- Tenant settings and a team. The completion email goes to notify_email
-- and to every address of notify_cc. A tenant administrator (users.admin)
-- changes the settings and invites, disables and removes colleagues; the
-- users already there are their tenants' administrators. Invitations and
-- password resets are one-time links whose tokens are stored hashed
-- (SHA-256), expire and are used once.
ALTER TABLE tenants ADD COLUMN notify_cc text[] NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN admin boolean NOT NULL DEFAULT false;
UPDATE users SET admin = true;

-- The first user of a tenant (trasloco admin user create, the operators'
-- console) administers it.
CREATE FUNCTION users_first_is_admin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM users WHERE tenant_id = NEW.tenant_id) THEN
        NEW.admin := true;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER users_first_is_admin BEFORE INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION users_first_is_admin();

CREATE TABLE user_tokens (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id  bigint      NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    purpose    text        NOT NULL CHECK (purpose IN ('invite', 'reset')),
    token_hash bytea       NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_tokens_user_id_idx ON user_tokens (user_id);
CREATE INDEX user_tokens_tenant_id_idx ON user_tokens (tenant_id);
