-- When wns first tried to write a SKU's figure that WooCommerce has not confirmed yet; null when
-- nothing is waiting. A cycle whose write failed leaves it set, so every later cycle writes the
-- SKU again (NetSuite's row no longer looks changed), and past stock.stale_after_secs the SKU
-- raises stock_stale.
alter table stock_items add column write_pending_since bigint;
