<?php
/**
 * Plugin Name:       wns Sync
 * Plugin URI:        https://github.com/wns-sync/wns
 * Description:       Connects WooCommerce to the wns service that keeps it in sync with NetSuite: user tokens for wns's screens and an atomic stock route for its stock writes.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      8.1
 * Author:            wns contributors
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       wns-sync
 * Domain Path:       /languages
 * WC requires at least: 7.9
 *
 * @package wns-sync
 */

defined( 'ABSPATH' ) || exit;

define( 'WNS_SYNC_VERSION', '0.1.0' );
define( 'WNS_SYNC_FILE', __FILE__ );
define( 'WNS_SYNC_DIR', __DIR__ );
define( 'WNS_SYNC_OPTION', 'wns_sync_settings' );
define( 'WNS_SYNC_DB_VERSION_OPTION', 'wns_sync_db_version' );

require_once __DIR__ . '/includes/class-wns-settings.php';
require_once __DIR__ . '/includes/class-wns-token.php';
require_once __DIR__ . '/includes/class-wns-stock.php';
require_once __DIR__ . '/includes/class-wns-screens.php';
require_once __DIR__ . '/includes/class-wns-widget-strings.php';

register_activation_hook( __FILE__, array( 'WNS_Stock', 'install' ) );

add_action(
	'before_woocommerce_init',
	static function () {
		if ( class_exists( \Automattic\WooCommerce\Utilities\FeaturesUtil::class ) ) {
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', WNS_SYNC_FILE, true );
		}
	}
);

add_action(
	'init',
	static function () {
		load_plugin_textdomain( 'wns-sync', false, dirname( plugin_basename( WNS_SYNC_FILE ) ) . '/languages' );
	}
);

add_action( 'plugins_loaded', array( 'WNS_Stock', 'maybe_upgrade' ) );
add_action( 'rest_api_init', array( 'WNS_Token', 'register_routes' ) );
add_action( 'rest_api_init', array( 'WNS_Stock', 'register_routes' ) );
add_filter( 'woocommerce_rest_is_request_to_rest_api', array( 'WNS_Stock', 'use_woocommerce_keys' ) );

if ( is_admin() ) {
	WNS_Settings::init();
	WNS_Screens::init();
}
