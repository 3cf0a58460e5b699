-- Requests for a password-reset email, for throttling: counted per target
-- address and per client address over a sliding window, so nobody can
-- flood an inbox with reset links. Like login_attempts, not tenant-owned
-- (they happen before anyone is known) and written for unknown addresses
-- too.
CREATE TABLE password_reset_requests (
    id    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text        NOT NULL,
    ip    text        NOT NULL,
    at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_reset_requests_email_at_idx ON password_reset_requests (email, at);
CREATE INDEX password_reset_requests_ip_at_idx ON password_reset_requests (ip, at);
CREATE INDEX password_reset_requests_at_idx ON password_reset_requests (at);
