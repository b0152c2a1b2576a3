-- meta: the ledger of submissions and of what was quarantined, refused or noted.
-- Written by pipelines.load (one transaction per submission); never edited by hand.

create schema if not exists meta;
create schema if not exists raw;
create schema if not exists staging;

create sequence if not exists meta.submission_seq start 1;

create table if not exists meta.submission (
    submission_id    varchar primary key,
    seq              bigint not null,          -- arrival order; a later seq supersedes same keys
    unit             varchar not null,
    source           varchar not null,
    filename         varchar not null,
    sha256           varchar not null,
    archive_path     varchar not null,         -- original bytes, never changed
    status           varchar not null,         -- received | parsed | validated | accepted | partially_accepted | refused | duplicate | failed
    rows_read        integer not null default 0,
    rows_accepted    integer not null default 0,
    rows_quarantined integer not null default 0,
    refusal_reason   varchar,                  -- Chinese, one line, when refused
    duplicate_of     varchar,
    extra_columns    varchar[],
    received_at      timestamp not null,
    finished_at      timestamp
);
-- added for crash and fault handling; ALTER so warehouses made before them get them too
alter table meta.submission add column if not exists error varchar;            -- exception behind a refusal or failure (engineers only)
alter table meta.submission add column if not exists attempts integer default 0; -- environment faults in a row (3 = parked as failed)
alter table meta.submission add column if not exists feedback_pending boolean default false; -- final, feedback report not yet written
comment on table meta.submission is 'One row per file received from a unit: who sent what, its sha256, outcome and counts.';
comment on column meta.submission.seq is 'Arrival order. For the same business key, the row from the higher seq is current.';
comment on column meta.submission.status is 'received/parsed/validated while in flight; accepted, partially_accepted, refused or duplicate when done; failed when the same environment fault stopped it three times.';

create table if not exists meta.submission_issue (
    submission_id varchar not null,
    scope         varchar not null,            -- file (refused) | row (quarantined) | note
    source_row    integer,                     -- row number as the unit sees it
    column_name   varchar,                     -- contract field name
    header        varchar,                     -- header as written in the file
    value         varchar,
    reason        varchar not null,            -- code from pipelines/ingest/reasons.py
    message_zh    varchar not null,
    fix_zh        varchar not null
);
comment on table meta.submission_issue is 'Every refusal reason, quarantined cell and note, with file row and column, as reported to the unit.';

create table if not exists meta.quarantined_row (
    submission_id varchar not null,
    source_row    integer not null,
    reasons       varchar[] not null,          -- reason codes for this row
    row_values    json not null,               -- the row as read (text), so nothing is lost
    primary key (submission_id, source_row)
);
comment on table meta.quarantined_row is 'Rows held back from raw: the values as read from the file and why. Fix and resubmit.';

create table if not exists meta.validation_result (
    submission_id    varchar not null,
    unit             varchar not null,
    source           varchar not null,
    validated_at     timestamp not null,
    expectation      varchar not null,         -- GX expectation type
    column_name      varchar,                  -- column(s) it checks
    reason           varchar,                  -- our reason code (expectation meta.reason)
    element_count    bigint,                   -- rows checked
    unexpected_count bigint,                   -- rows failing it
    success          boolean not null
);
comment on table meta.validation_result is 'Per submission and GX expectation: rows checked, rows failing, success. Counts only (no values); written by the validate step from the source''s Checkpoint.';
