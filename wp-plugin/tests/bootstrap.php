<?php
/**
 * PHPUnit bootstrap: the tests run against a real, running WordPress + WooCommerce store made by
 * `cargo xtask wp` / `cargo xtask test` (xtask/src/wp.rs). WNS_WP_STORE names its store.json; this
 * process loads that site's wp-load.php (same database) and talks to its php -S server over HTTP.
 *
 * @package wns-sync
 */

$wns_store_file = getenv( 'WNS_WP_STORE' );
if ( ! $wns_store_file || ! is_file( $wns_store_file ) ) {
	fwrite( STDERR, "WNS_WP_STORE must name the store.json of a running test store; run the PHP tests with `cargo xtask test` (or start one with `cargo xtask wp` and pass its store.json)\n" );
	exit( 2 );
}
$GLOBALS['wns_store'] = json_decode( (string) file_get_contents( $wns_store_file ), true );

$_SERVER['HTTP_HOST']   = (string) parse_url( $GLOBALS['wns_store']['url'], PHP_URL_HOST );
$_SERVER['REQUEST_URI'] = '/';
require $GLOBALS['wns_store']['path'] . 'wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
require_once __DIR__ . '/WnsTestCase.php';
