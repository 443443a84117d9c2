//! WooCommerce wc/v3 simulator (being written).
