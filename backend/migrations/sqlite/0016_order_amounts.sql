-- Each WooCommerce order's total as the order flow last read it, so the exceptions board and the
-- SKU fixer can say how much money waits on a blocked order. Text: exact decimals, never floats.
create table order_amounts (
    wc_order_id bigint primary key,
    total text not null,
    currency text not null,
    read_at bigint not null
);
