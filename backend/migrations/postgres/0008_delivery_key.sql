-- WooCommerce's X-WC-Webhook-Delivery-ID is wp_hash(webhook id . current second): every delivery
-- of one webhook within a second shares it, and a retry gets a new one. It is kept for people
-- to read, but what a delivery *is* — its topic, its resource and the exact body — decides
-- whether it was seen before: sha256 over those, hex.
alter table webhook_deliveries add column dedupe_key text;
drop index webhook_deliveries_once;
create unique index webhook_deliveries_once on webhook_deliveries (dedupe_key) where status = 'accepted';
