-- Every change made through the API or by an operator's command: who, when, what, and the
-- record before and after (JSON), listed per entity (`sku:MUG-RED`, `job:42`).
create table audit_log (
    id integer primary key,
    at bigint not null,
    -- `user:<site>#<id> (<name>)`, `key:<name>` or `cli:<os user>`
    who text not null,
    entity text not null,
    -- what was done: `sku_mapping.save`, `sku_mapping.remove`, `job.replay`
    action text not null,
    before text,
    after text
);
create index audit_log_entity on audit_log (entity, id);
