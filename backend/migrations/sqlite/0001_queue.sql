-- The durable job queue. Times are milliseconds since the Unix epoch (UTC) from the
-- application's clock, so tests can move time and both databases compare plain integers.
create table jobs (
    id integer primary key autoincrement,
    kind text not null,
    entity_key text not null,
    payload text not null,
    state text not null check (state in ('ready', 'running', 'blocked', 'done', 'dead')),
    priority bigint not null default 0,
    -- this job waits until that one is done (an order waits for its customer)
    depends_on bigint references jobs (id),
    attempts bigint not null default 0,
    max_attempts bigint not null,
    run_after bigint not null,
    lease_until bigint,
    lease_owner text,
    -- the worker whose lease ran out; the next worker records that attempt as abandoned
    reclaimed_from text,
    -- 1 when new data for the entity arrived while the job was running: run it again afterwards
    rerun bigint not null default 0,
    blocked_owner text,
    -- what a person must fix, e.g. `sku:ABC-1`; fixing it requeues every job blocked on it
    blocked_cause text,
    last_error text,
    created_at bigint not null,
    updated_at bigint not null
);

-- at most one pending job per entity: a burst of webhooks for one order collapses into one job
create unique index jobs_one_pending on jobs (kind, entity_key) where state in ('ready', 'running', 'blocked');
create index jobs_due on jobs (priority desc, run_after, id) where state = 'ready';
create index jobs_leases on jobs (lease_until) where state = 'running';
create index jobs_blocked_cause on jobs (blocked_cause) where state = 'blocked';
create index jobs_depends_on on jobs (depends_on) where depends_on is not null;

-- every attempt, for the order timeline in the widget and for post-mortems
create table job_attempts (
    id integer primary key autoincrement,
    job_id bigint not null references jobs (id),
    attempt bigint not null,
    worker text not null,
    started_at bigint not null,
    finished_at bigint not null,
    -- done | retry | blocked | dead | abandoned (lease ran out) | released (shutdown)
    outcome text not null,
    error text
);
create index job_attempts_job on job_attempts (job_id, id);
