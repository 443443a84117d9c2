-- Operators' API keys (`wns keys create`): shown once, stored as sha256 of the key, revocable.
create table api_keys (
    id integer primary key,
    name text not null,
    -- sha256 of the whole key, hex; the key itself is never stored
    key_hash text not null,
    -- the first characters of the key, to tell keys apart in lists (`wns_ab12…`)
    prefix text not null,
    -- capabilities, comma-separated: view, map_skus, replay, resolve
    caps text not null,
    created_at bigint not null,
    last_used_at bigint,
    revoked_at bigint
);
create unique index api_keys_hash on api_keys (key_hash);
create unique index api_keys_name on api_keys (name) where revoked_at is null;
