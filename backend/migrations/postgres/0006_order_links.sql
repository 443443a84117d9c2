-- One row per WooCommerce order wns has looked at: where it went in NetSuite and in what state,
-- so a repeat (webhook twice, sweep, retry after a lost answer) changes nothing and a change can be
-- told from a repeat by the hash of the sales order body.
create table order_links (
    wc_order_id bigint primary key,
    external_id text not null,
    -- posted | held_tax (Pending Approval: NetSuite's tax off by more than the tolerance) | closed
    state text not null,
    netsuite_id text,
    tranid text,
    customer_id text,
    -- linked_id | external_id | email | created
    customer_rule text,
    -- order | rule:<n> | stock | split | default | none
    route text,
    body_hash text,
    -- the WooCommerce order carries this NetSuite id in its meta and has the private note
    woo_written_for text,
    -- WooCommerce's total as posted, compared with NetSuite's when the document number is read back
    wc_total text,
    updated_at bigint not null
);
