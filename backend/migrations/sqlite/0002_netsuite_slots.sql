-- NetSuite's concurrency limit is per account, shared by every wns process (and every other
-- integration) on it. With several processes on one PostgreSQL database, each request holds one
-- of these rows for as long as it is in flight, so the account-wide budget is never exceeded.
-- A crashed process's slots come back when their lease (renewed every few seconds) runs out.
-- SQLite deployments are one process, so the table stays empty there.
create table netsuite_slots (
    account text not null,
    slot bigint not null,
    holder text,
    -- milliseconds since the Unix epoch
    lease_until bigint not null default 0,
    primary key (account, slot)
);
