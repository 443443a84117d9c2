<?php
/**
 * uninstall.php removes the options, the table and the transients.
 *
 * @package wns-sync
 */

/**
 * Uninstall.
 */
class UninstallTest extends WnsTestCase {

	public function test_uninstall_removes_everything() {
		global $wpdb;
		self::configure();
		set_transient( 'wns_sync_test_1', array( 'ok' => true ), 60 );
		$table = $wpdb->prefix . 'wns_stock_keys';
		$this->assertSame( $table, $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $table ) ) );

		deactivate_plugins( 'wns-sync/wns-sync.php' );
		$this->assertTrue( is_uninstallable_plugin( 'wns-sync/wns-sync.php' ) );
		uninstall_plugin( 'wns-sync/wns-sync.php' );
		wp_cache_flush();

		$this->assertFalse( get_option( 'wns_sync_settings' ) );
		$this->assertFalse( get_option( 'wns_sync_db_version' ) );
		$this->assertNull( $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $table ) ) );
		$this->assertSame( '0', $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->options} WHERE option_name LIKE '%wns\\_sync%'" ) );

		// The store stays usable with the plugin gone; put it back for whoever uses the store next.
		$this->assertNull( activate_plugin( 'wns-sync/wns-sync.php' ) );
		$this->assertSame( $table, $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $table ) ) );
	}
}
