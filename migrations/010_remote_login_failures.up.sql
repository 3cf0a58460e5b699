-- Failed test logins to customers' remote servers, so the panel cannot be
-- used to guess passwords: counted per (remote host, remote user) across
-- every tenant, and per tenant. Like login_attempts, a row is written
-- before the login is tried and deleted when it did not fail for a wrong
-- password. Old rows are pruned by the purge job.
CREATE TABLE remote_login_failures (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   bigint      NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    host        text        NOT NULL,
    remote_user text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX remote_login_failures_host_user_at_idx ON remote_login_failures (host, remote_user, at);
CREATE INDEX remote_login_failures_tenant_at_idx ON remote_login_failures (tenant_id, at);
CREATE INDEX remote_login_failures_at_idx ON remote_login_failures (at);
