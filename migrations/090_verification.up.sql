-- Proof for the customer (#12). Per mailbox run and folder: what the old
-- server held and what became of it, written once at each folder's end,
-- and what the verification after the copy found at the destination.
CREATE TABLE mailbox_run_folders (
    mailbox_run_id      bigint      NOT NULL,
    tenant_id           bigint      NOT NULL,
    source              text        NOT NULL,
    dest                text        NOT NULL DEFAULT '',
    -- Why the folder was not copied, a code (trash, junk, …, failed);
    -- '' when it was.
    excluded            text        NOT NULL DEFAULT '',
    messages            integer     NOT NULL DEFAULT 0,
    bytes               bigint      NOT NULL DEFAULT 0,
    copied              integer     NOT NULL DEFAULT 0,
    already_there       integer     NOT NULL DEFAULT 0,
    too_large           integer     NOT NULL DEFAULT 0,
    failed              integer     NOT NULL DEFAULT 0,
    gone                integer     NOT NULL DEFAULT 0,
    -- The verification: NULL while the folder is not verified.
    verified            integer,
    expected            integer     NOT NULL DEFAULT 0,
    missing             integer     NOT NULL DEFAULT 0,
    duplicates          integer     NOT NULL DEFAULT 0,
    removed             integer     NOT NULL DEFAULT 0,
    deleted_by_customer integer     NOT NULL DEFAULT 0,
    still_there         integer     NOT NULL DEFAULT 0,
    excluded_copied     integer     NOT NULL DEFAULT 0,
    flags_behind        integer     NOT NULL DEFAULT 0,
    position            integer     NOT NULL DEFAULT 0,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mailbox_run_id, source),
    FOREIGN KEY (mailbox_run_id, tenant_id) REFERENCES mailbox_runs (id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX mailbox_run_folders_tenant_id_idx ON mailbox_run_folders (tenant_id);

-- The messages the verification found missing or twice at the destination,
-- per folder: replaced each time the folder is verified again. reason is a
-- code (not_at_destination, duplicate, or the copy's failure code).
CREATE TABLE verify_findings (
    mailbox_run_id bigint      NOT NULL,
    tenant_id      bigint      NOT NULL,
    folder         text        NOT NULL,
    kind           text        NOT NULL CHECK (kind IN ('missing', 'duplicate', 'excluded_copied')),
    uid            bigint      NOT NULL,
    size           bigint      NOT NULL DEFAULT 0,
    date           timestamptz,
    sender         text        NOT NULL DEFAULT '',
    subject        text        NOT NULL DEFAULT '',
    reason         text        NOT NULL DEFAULT '',
    PRIMARY KEY (mailbox_run_id, folder, kind, uid),
    FOREIGN KEY (mailbox_run_id, tenant_id) REFERENCES mailbox_runs (id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX verify_findings_tenant_id_idx ON verify_findings (tenant_id);

-- A mailbox run's verdict: verified is NULL while it is not verified, else
-- the number of messages verified present; the rest count what is wrong.
ALTER TABLE mailbox_runs
    ADD COLUMN verified                   integer,
    ADD COLUMN verify_expected            integer NOT NULL DEFAULT 0,
    ADD COLUMN verify_missing             integer NOT NULL DEFAULT 0,
    ADD COLUMN verify_duplicates          integer NOT NULL DEFAULT 0,
    ADD COLUMN verify_deleted_by_customer integer NOT NULL DEFAULT 0,
    ADD COLUMN verify_excluded_copied     integer NOT NULL DEFAULT 0,
    ADD COLUMN verify_flags_behind        integer NOT NULL DEFAULT 0;

-- Which mailbox run recorded a copied message (NULL: before this column):
-- a message an earlier run copied and the destination no longer has was
-- deleted there by the customer, not lost.
ALTER TABLE copied_messages ADD COLUMN mailbox_run_id bigint;
