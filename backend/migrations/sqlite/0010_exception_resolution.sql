-- How an exception ended, set with resolved_at: a short machine word saying what removed its cause
-- (`sku_mapped`, `order_posted`, `stock_corrected`, `webhook_delivered`, …; see
-- `monitor::exceptions::Resolution`). Null while open, and on rows resolved before this column.
alter table exceptions add column resolution text;
