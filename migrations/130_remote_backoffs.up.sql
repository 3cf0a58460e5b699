-- A source account that its server asked to slow down ("Request is
-- throttled. Suggested Backoff Time", Gmail's bandwidth and daily limits):
-- the tenant's mailboxes copied from it wait until `until`, in every
-- worker process. Expired rows are pruned by the hourly purge.
CREATE TABLE remote_backoffs (
    tenant_id bigint      NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    host      text        NOT NULL,
    account   text        NOT NULL,
    until     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, host, account)
);
CREATE INDEX remote_backoffs_until_idx ON remote_backoffs (until);
