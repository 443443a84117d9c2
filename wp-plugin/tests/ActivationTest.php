<?php
/**
 * Activation on the store's order storage (posts or HPOS, as xtask started it).
 *
 * @package wns-sync
 */

/**
 * Activation.
 */
class ActivationTest extends WnsTestCase {

	public function test_active_with_woocommerce_7_9() {
		$this->assertTrue( is_plugin_active( 'wns-sync/wns-sync.php' ) );
		$this->assertTrue( version_compare( WC()->version, '7.9.0', '>=' ), 'WooCommerce ' . WC()->version );
		$hpos = Automattic\WooCommerce\Utilities\OrderUtil::custom_orders_table_usage_is_enabled();
		$this->assertSame( (bool) self::store( 'hpos' ), $hpos, 'the order storage xtask asked for' );
	}

	public function test_declares_hpos_compatibility() {
		$features   = wc_get_container()->get( Automattic\WooCommerce\Internal\Features\FeaturesController::class );
		$compatible = $features->get_compatible_plugins_for_feature( 'custom_order_tables' );
		$this->assertContains( 'wns-sync/wns-sync.php', $compatible['compatible'] );
	}

	public function test_reactivation_recreates_the_table() {
		global $wpdb;
		$table = $wpdb->prefix . 'wns_stock_keys';
		deactivate_plugins( 'wns-sync/wns-sync.php' );
		$this->assertFalse( is_plugin_active( 'wns-sync/wns-sync.php' ) );
		$wpdb->query( "DROP TABLE IF EXISTS {$table}" );
		$result = activate_plugin( 'wns-sync/wns-sync.php' );
		$this->assertNull( $result, is_wp_error( $result ) ? $result->get_error_message() : '' );
		$this->assertTrue( is_plugin_active( 'wns-sync/wns-sync.php' ) );
		$this->assertSame( $table, $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $table ) ) );
	}

	public function test_admin_screens_still_work() {
		$jar = self::login( self::store( 'admin_user' ), self::store( 'admin_password' ) );
		$orders = self::store( 'hpos' ) ? '/wp-admin/admin.php?page=wc-orders' : '/wp-admin/edit.php?post_type=shop_order';
		foreach ( array( $orders, '/wp-admin/edit.php?post_type=product', '/wp-admin/admin.php?page=wns-sync-settings' ) as $path ) {
			$r = self::http( 'GET', $path, array( 'cookies' => $jar ) );
			$this->assertSame( 200, $r['status'], $path . ' ' . $r['headers'] );
			$this->assertStringNotContainsString( 'critical error', $r['body'], $path );
		}
	}
}
