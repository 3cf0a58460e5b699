-- A tenant's Microsoft 365 directory (Entra ID tenant id), kept once its
-- administrator granted the operator's application admin consent: the
-- client-credentials tokens of its mailboxes are asked of that directory.
-- Not a secret (the id is in every sign-in URL of the customer), so stored
-- in clear; the application's secret stays in the configuration.
CREATE TABLE tenant_microsoft (
    tenant_id    bigint      PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    directory_id text        NOT NULL CHECK (directory_id ~ '^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$'),
    consented_at timestamptz NOT NULL DEFAULT now()
);
