-- Core schema of the panel: tenants and their users, sessions, migrations
-- with their CSV lines, runs, per-mailbox results and logs, and the copy
-- checkpoints. Every tenant-owned row carries tenant_id, and child tables
-- reference their parent by (id, tenant_id) so a row can never point at
-- another tenant's parent.

CREATE TABLE tenants (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text        NOT NULL UNIQUE CHECK (name <> ''),
    notify_email text        NOT NULL CHECK (notify_email LIKE '%_@_%'),
    timezone     text        NOT NULL DEFAULT 'Europe/Rome',
    language     text        NOT NULL DEFAULT 'it' CHECK (language IN ('it', 'en')),
    disabled     boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenant_domains (
    tenant_id  bigint      NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    domain     text        NOT NULL UNIQUE CHECK (domain <> '' AND domain = lower(domain)),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, domain)
);

CREATE TABLE users (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     bigint      NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email         text        NOT NULL UNIQUE CHECK (email LIKE '%_@_%' AND email = lower(email)),
    password_hash text        NOT NULL,
    -- An operator works for the provider and may see every tenant.
    operator      boolean     NOT NULL DEFAULT false,
    disabled      boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_tenant_id_idx ON users (tenant_id);

-- The table github.com/alexedwards/scs/pgxstore expects.
CREATE TABLE sessions (
    token  text        PRIMARY KEY,
    data   bytea       NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- Failed logins, for throttling: counted per email and client address over
-- a sliding window, cleared on success, pruned when old.
CREATE TABLE login_attempts (
    id    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text        NOT NULL,
    ip    text        NOT NULL,
    at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_email_ip_at_idx ON login_attempts (email, ip, at);
CREATE INDEX login_attempts_ip_at_idx ON login_attempts (ip, at);
CREATE INDEX login_attempts_at_idx ON login_attempts (at);

CREATE TABLE migrations (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id           bigint      NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                text        NOT NULL CHECK (name <> ''),
    -- The remote server type; its values are owned by the application.
    preset              text        NOT NULL,
    status              text        NOT NULL DEFAULT 'validating' CHECK (status IN (
                            'validating', 'red', 'scheduled', 'running',
                            'completed', 'completed_with_errors', 'cancelled')),
    insecure_tls        boolean     NOT NULL DEFAULT false,
    -- Optional master user on the remote server; the password is sealed with
    -- the secret key and erased (NULL) after the last run.
    master_user         text,
    master_password_enc bytea,
    first_run_at        timestamptz NOT NULL,
    second_run_at       timestamptz,
    -- A problem with the upload as a whole (not a line), shown when red.
    error_text          text,
    line_count          integer     NOT NULL DEFAULT 0 CHECK (line_count >= 0),
    validated_count     integer     NOT NULL DEFAULT 0 CHECK (validated_count >= 0),
    failed_count        integer     NOT NULL DEFAULT 0 CHECK (failed_count >= 0),
    created_by          bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, tenant_id),
    CHECK (second_run_at IS NULL OR (second_run_at > first_run_at
                                     AND second_run_at <= first_run_at + interval '23 hours'))
);
CREATE INDEX migrations_tenant_newest_idx ON migrations (tenant_id, created_at DESC, id DESC);
CREATE INDEX migrations_status_idx ON migrations (status);

-- One line of the uploaded CSV: one mailbox to copy.
CREATE TABLE migration_lines (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    migration_id        bigint      NOT NULL,
    tenant_id           bigint      NOT NULL,
    line_no             integer     NOT NULL CHECK (line_no > 0),
    -- Fields stay '' when the line could not be parsed that far.
    local_user          text        NOT NULL DEFAULT '',
    remote_host         text        NOT NULL DEFAULT '',
    remote_user         text        NOT NULL DEFAULT '',
    -- Sealed with the secret key; NULL when empty (master user) or erased
    -- after the last run.
    remote_password_enc bytea,
    -- The address (ip:port) the validation reached, which the runs dial.
    pinned_addr         text,
    status              text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ok', 'failed')),
    -- The user-facing reason of a failed line.
    error_text          text,
    validated_at        timestamptz,
    UNIQUE (migration_id, line_no),
    UNIQUE (id, tenant_id),
    FOREIGN KEY (migration_id, tenant_id) REFERENCES migrations (id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX migration_lines_tenant_id_idx ON migration_lines (tenant_id);

-- Run 1 (the copy) and the optional run 2 (what arrived since).
CREATE TABLE runs (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    migration_id  bigint      NOT NULL,
    tenant_id     bigint      NOT NULL,
    run_no        smallint    NOT NULL CHECK (run_no IN (1, 2)),
    status        text        NOT NULL DEFAULT 'scheduled' CHECK (status IN (
                      'scheduled', 'running', 'completed', 'completed_with_errors', 'cancelled')),
    scheduled_at  timestamptz NOT NULL,
    started_at    timestamptz,
    ended_at      timestamptz,
    -- The River job that starts the run, so cancelling can remove it.
    river_job_id  bigint,
    email_sent_at timestamptz,
    email_error   text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (migration_id, run_no),
    UNIQUE (id, tenant_id),
    FOREIGN KEY (migration_id, tenant_id) REFERENCES migrations (id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX runs_tenant_id_idx ON runs (tenant_id);
CREATE INDEX runs_status_scheduled_at_idx ON runs (status, scheduled_at);

-- One mailbox in one run: its live progress and final counters.
CREATE TABLE mailbox_runs (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id           bigint      NOT NULL,
    line_id          bigint      NOT NULL,
    tenant_id        bigint      NOT NULL,
    status           text        NOT NULL DEFAULT 'pending' CHECK (status IN (
                         'pending', 'running', 'completed', 'completed_with_errors', 'failed', 'cancelled')),
    folders          integer     NOT NULL DEFAULT 0,
    found            integer     NOT NULL DEFAULT 0,
    copied           integer     NOT NULL DEFAULT 0,
    already_there    integer     NOT NULL DEFAULT 0,
    too_large        integer     NOT NULL DEFAULT 0,
    excluded_folders integer     NOT NULL DEFAULT 0,
    failed           integer     NOT NULL DEFAULT 0,
    bytes            bigint      NOT NULL DEFAULT 0,
    done             integer     NOT NULL DEFAULT 0,
    total            integer     NOT NULL DEFAULT 0,
    current_folder   text,
    error_text       text,
    started_at       timestamptz,
    ended_at         timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, line_id),
    UNIQUE (id, tenant_id),
    FOREIGN KEY (run_id, tenant_id) REFERENCES runs (id, tenant_id) ON DELETE CASCADE,
    FOREIGN KEY (line_id, tenant_id) REFERENCES migration_lines (id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX mailbox_runs_line_id_idx ON mailbox_runs (line_id);
CREATE INDEX mailbox_runs_tenant_id_idx ON mailbox_runs (tenant_id);

CREATE TABLE mailbox_logs (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mailbox_run_id bigint      NOT NULL,
    tenant_id      bigint      NOT NULL,
    at             timestamptz NOT NULL DEFAULT now(),
    level          text        NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
    folder         text,
    message        text        NOT NULL,
    FOREIGN KEY (mailbox_run_id, tenant_id) REFERENCES mailbox_runs (id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX mailbox_logs_mailbox_run_id_idx ON mailbox_logs (mailbox_run_id, id);
CREATE INDEX mailbox_logs_tenant_id_idx ON mailbox_logs (tenant_id);

-- Messages a run did not copy on purpose (over the size limit, …).
CREATE TABLE skipped_messages (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mailbox_run_id bigint      NOT NULL,
    tenant_id      bigint      NOT NULL,
    folder         text        NOT NULL,
    uid            bigint      NOT NULL,
    size           bigint      NOT NULL DEFAULT 0,
    date           timestamptz,
    sender         text        NOT NULL DEFAULT '',
    subject        text        NOT NULL DEFAULT '',
    reason         text        NOT NULL DEFAULT 'too_large',
    FOREIGN KEY (mailbox_run_id, tenant_id) REFERENCES mailbox_runs (id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX skipped_messages_mailbox_run_id_idx ON skipped_messages (mailbox_run_id);
CREATE INDEX skipped_messages_tenant_id_idx ON skipped_messages (tenant_id);

-- Copy checkpoints, per line and source folder; they survive between runs
-- so run 2 copies only what is new, and a restarted run copies nothing twice.
CREATE TABLE checkpoints (
    line_id           bigint      NOT NULL,
    tenant_id         bigint      NOT NULL,
    folder            text        NOT NULL,
    uid_validity      bigint      NOT NULL,
    dest_folder       text        NOT NULL,
    dest_uid_validity bigint,
    -- Every source UID up to here is copied or deliberately skipped.
    last_uid          bigint      NOT NULL DEFAULT 0,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (line_id, folder),
    FOREIGN KEY (line_id, tenant_id) REFERENCES migration_lines (id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX checkpoints_tenant_id_idx ON checkpoints (tenant_id);

-- Every message copied, so a retry never appends it twice, and Gmail's
-- All Mail can skip what a label already brought over (message_id).
CREATE TABLE copied_messages (
    line_id      bigint      NOT NULL,
    tenant_id    bigint      NOT NULL,
    folder       text        NOT NULL,
    src_uid      bigint      NOT NULL,
    dst_uid      bigint,
    message_id   text,
    flags        text[]      NOT NULL DEFAULT '{}',
    copied_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (line_id, folder, src_uid),
    FOREIGN KEY (line_id, tenant_id) REFERENCES migration_lines (id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX copied_messages_message_id_idx ON copied_messages (line_id, message_id) WHERE message_id IS NOT NULL;
CREATE INDEX copied_messages_tenant_id_idx ON copied_messages (tenant_id);
