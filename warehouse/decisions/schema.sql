-- decisions: what people decided about flags, and the follow-up of adjusted cadres.
-- Why a schema of its own: a rebuild (cadre build) replaces core/marts/rules from the data and
-- the rule set; nothing here can be recomputed from data, so no build statement may touch it.
-- Written only by pipelines/review/decisions.py and pipelines/review/followup.py; every statement is
-- idempotent (`if not exists`), run before each use.

create schema if not exists decisions;

create sequence if not exists decisions.decision_seq start 1;

create table if not exists decisions.flag_register (
    flag_id          varchar primary key,  -- <rule_id>-<8 hex of md5(id_number|rule_id|opened_on)>
    id_number        varchar not null,
    rule_id          varchar not null,
    severity         varchar not null,     -- candidate | warning (as first raised)
    opened_on        date not null,        -- the flag's own date (its evidence's date)
    observation_ends_on date,              -- warnings: end of the 考察期 the build computed
    name             varchar,
    org_name         varchar,
    post_title       varchar,
    rule_title_zh    varchar,
    detail_zh        varchar,
    evidence_ids     varchar[],
    first_as_of      date not null,        -- earliest as-of date of a build that raised it
    first_seen_at    timestamp not null,   -- first build the flag appeared in
    last_seen_at     timestamp not null,   -- latest build the flag appeared in
    ruleset_label    varchar
);
comment on table decisions.flag_register is '预警线索登记：every flag any build has raised, with a stable id; kept when a later build no longer raises it.';
comment on column decisions.flag_register.flag_id is '线索编号: rule id + 8 hex digits of md5(id_number|rule_id|opened_on); the same flag gets the same id in every build.';
comment on column decisions.flag_register.opened_on is 'The flag''s date as the rule reports it (flag_date: the date of its latest evidence).';

create table if not exists decisions.flag_sync (
    as_of            date not null,
    built_at         timestamp not null,       -- marts.build_run.built_at of that build
    synced_at        timestamp not null,
    primary key (as_of, built_at)
);
comment on table decisions.flag_sync is 'Builds whose flags are in the register: a build is copied once (a rebuild of the same date has a new built_at and is copied again).';

create table if not exists decisions.decision_log (
    decision_id      bigint primary key default nextval('decisions.decision_seq'),
    flag_id          varchar not null,
    id_number        varchar not null,
    action           varchar not null,     -- observe | confirm | clear | adjust | appeal | appeal_upheld | appeal_granted | restore
    measure          varchar,              -- 调离岗位 | 改任职级 | 免职 | 降职 (adjust)
    from_state       varchar not null,
    to_state         varchar not null,
    decided_on       date not null,
    decided_by       varchar not null,
    reason           varchar not null,
    document_no      varchar,
    observe_until    date,                 -- observe: end of the 考察期
    remark           varchar,
    recorded_at      timestamp not null,
    recorded_via     varchar not null,     -- cli | drop
    submission_id    varchar,              -- drop: the decision file (meta.submission)
    source_row       integer
);
comment on table decisions.decision_log is '决定记录：every decision of the organization department on a flag, append-only, validated by the state machine (pipelines/review/decisions.py). Never rebuilt.';
comment on column decisions.decision_log.from_state is 'State of the flag before this decision (flagged, under_observation, confirmed, cleared, adjusted, appealed).';
comment on column decisions.decision_log.to_state is 'State after it; appeal_upheld returns to the state before the appeal.';

create table if not exists decisions.drop_outcome (
    submission_id    varchar not null,
    source_row       integer not null,
    flag_id          varchar,
    action_zh        varchar,
    applied          boolean not null,
    decision_id      bigint,
    message_zh       varchar not null,
    processed_at     timestamp not null,
    primary key (submission_id, source_row)
);
comment on table decisions.drop_outcome is '决定文件处理结果：per row of an ORG decision drop (raw.decision), whether the state machine applied it and why not.';

create table if not exists decisions.followup_target (
    flag_id          varchar not null,
    target_no        integer not null,
    target_zh        varchar not null,
    set_by           varchar not null,
    set_on           date not null,
    recorded_at      timestamp not null,
    primary key (flag_id, target_no)
);
comment on table decisions.followup_target is '复检目标：targets set by people for an adjusted cadre (工作目标任务和重点项目清单), beside the ones derived from the profile.';
