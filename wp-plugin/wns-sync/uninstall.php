<?php
/**
 * Removes what wns Sync stored: its options, its idempotency table and its transients.
 *
 * @package wns-sync
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

global $wpdb;
delete_option( 'wns_sync_settings' );
delete_option( 'wns_sync_db_version' );
$wpdb->query( "DROP TABLE IF EXISTS {$wpdb->prefix}wns_stock_keys" ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery
$wpdb->query( "DELETE FROM {$wpdb->options} WHERE option_name LIKE '\\_transient\\_wns\\_sync\\_%' OR option_name LIKE '\\_transient\\_timeout\\_wns\\_sync\\_%'" ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery
