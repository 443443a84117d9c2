<?php
/**
 * The column, meta boxes and page placeholders on the legacy and HPOS screens, and the widget's
 * assets only there.
 *
 * @package wns-sync
 */

/**
 * Screens.
 */
class ScreensTest extends WnsTestCase {

	/** @var int */
	private static $order_id;

	/** @var string */
	private static $jar;

	public static function setUpBeforeClass(): void {
		// A backend that is down: the screens must not care.
		self::configure( self::SECRET, 'http://127.0.0.1:9' );
		$order = wc_create_order( array( 'customer_id' => self::store( 'customer_id' ) ) );
		$order->add_product( wc_get_product( self::store( 'products' )['WNS-POSTER'] ), 1 );
		$order->calculate_totals();
		$order->save();
		self::$order_id = $order->get_id();
		self::$jar      = self::login( self::store( 'admin_user' ), self::store( 'admin_password' ) );
	}

	private static function page( $path ) {
		return self::http( 'GET', $path, array( 'cookies' => self::$jar ) );
	}

	private function order_list() {
		return self::store( 'hpos' ) ? '/wp-admin/admin.php?page=wc-orders' : '/wp-admin/edit.php?post_type=shop_order';
	}

	private function order_edit() {
		return self::store( 'hpos' )
			? '/wp-admin/admin.php?page=wc-orders&action=edit&id=' . self::$order_id
			: '/wp-admin/post.php?action=edit&post=' . self::$order_id;
	}

	public function test_order_list_has_the_column_with_the_order_id() {
		$r = self::page( $this->order_list() );
		$this->assertSame( 200, $r['status'] );
		$this->assertMatchesRegularExpression( '/<th[^>]+id=[\'"]wns_sync[\'"]/', $r['body'], 'the column header' );
		$this->assertStringContainsString( 'data-wns-order="' . self::$order_id . '"', $r['body'] );
	}

	public function test_order_edit_screen_has_the_meta_box() {
		$r = self::page( $this->order_edit() );
		$this->assertSame( 200, $r['status'] );
		$this->assertStringContainsString( 'id="wns-sync-order"', $r['body'] );
		$this->assertStringContainsString( '<div class="wns-sync-box" data-wns-order="' . self::$order_id . '">', $r['body'] );
	}

	public function test_product_list_and_edit_screen() {
		$id = self::store( 'products' )['WNS-MUG'];
		// Searched: the backend's contract tests add products to the same store before these run.
		$r = self::page( '/wp-admin/edit.php?post_type=product&s=WNS-MUG' );
		$this->assertSame( 200, $r['status'] );
		$this->assertMatchesRegularExpression( '/<th[^>]+id=[\'"]wns_sync[\'"]/', $r['body'] );
		$this->assertStringContainsString( 'data-wns-product="' . $id . '"', $r['body'] );
		$r = self::page( '/wp-admin/post.php?action=edit&post=' . $id );
		$this->assertSame( 200, $r['status'] );
		$this->assertStringContainsString( 'id="wns-sync-product"', $r['body'] );
		$this->assertStringContainsString( 'data-wns-product="' . $id . '"', $r['body'] );
	}

	public function test_the_netsuite_sync_page() {
		$r = self::page( '/wp-admin/admin.php?page=wns-sync' );
		$this->assertSame( 200, $r['status'] );
		$this->assertStringContainsString( 'id="wns-sync-app"', $r['body'] );
		$customer = self::login( self::store( 'customer_user' ), self::store( 'customer_password' ) );
		$r        = self::http( 'GET', '/wp-admin/admin.php?page=wns-sync', array( 'cookies' => $customer ) );
		$this->assertStringNotContainsString( 'id="wns-sync-app"', $r['body'] );
	}

	public function test_without_a_built_widget_a_notice_and_no_script() {
		// An empty folder stands for a copy without the widget (the checkout's own
		// assets/pkg/ holds one once `cargo xtask widget` has run).
		$uploads = wp_get_upload_dir();
		$dir     = $uploads['basedir'] . '/wns-widget-none';
		wp_mkdir_p( $dir );
		$mu = self::widget_location_plugin( $dir, $uploads['baseurl'] . '/wns-widget-none' );
		try {
			foreach ( array( $this->order_list(), '/wp-admin/admin.php?page=wns-sync' ) as $path ) {
				$r = self::page( $path );
				$this->assertStringContainsString( 'id="wns-sync-no-widget"', $r['body'], $path );
				$this->assertStringNotContainsString( 'wns_widget.js', $r['body'], $path );
			}
			$r = self::page( '/wp-admin/index.php' );
			$this->assertSame( 200, $r['status'] );
			$this->assertStringNotContainsString( 'wns-sync-no-widget', $r['body'], 'no notice elsewhere' );
		} finally {
			unlink( $mu );
		}
	}

	/**
	 * A must-use plugin pointing the `wns_sync_widget_location` filter at `$dir`; returns its file.
	 *
	 * @param string $dir The folder.
	 * @param string $url Its URL.
	 * @return string
	 */
	private static function widget_location_plugin( $dir, $url ) {
		$mu = WP_CONTENT_DIR . '/mu-plugins/wns-test-widget.php';
		file_put_contents(
			$mu,
			"<?php add_filter( 'wns_sync_widget_location', function () { return array( " . var_export( $dir, true ) . ', ' . var_export( $url, true ) . " ); } );\n"
		);
		return $mu;
	}

	/**
	 * A stand-in for the built widget in the uploads folder, with the must-use plugin pointing at it;
	 * returns that plugin's file.
	 *
	 * @return string
	 */
	private static function fake_built_widget() {
		$uploads = wp_get_upload_dir();
		$dir     = $uploads['basedir'] . '/wns-widget-test';
		wp_mkdir_p( $dir );
		file_put_contents( $dir . '/wns_widget.js', 'export default function () {}' );
		file_put_contents( $dir . '/wns_widget_bg.wasm', "\0asm\1\0\0\0" );
		return self::widget_location_plugin( $dir, $uploads['baseurl'] . '/wns-widget-test' );
	}

	public function test_a_built_widget_loads_only_on_its_screens() {
		$mu = self::fake_built_widget();
		try {
			foreach ( array( $this->order_list(), $this->order_edit(), '/wp-admin/edit.php?post_type=product', '/wp-admin/admin.php?page=wns-sync' ) as $path ) {
				$r = self::page( $path );
				$this->assertSame( 200, $r['status'], $path );
				$this->assertMatchesRegularExpression( '#<script type="module" src=[\'"][^\'"]+/wns-widget-test/wns_widget\.js#', $r['body'], $path );
				$this->assertStringContainsString( 'window.wnsSync = ', $r['body'], $path );
				$this->assertStringContainsString( 'wns_widget_bg.wasm', $r['body'], $path );
				$this->assertStringContainsString( 'assets/wns-sync.css', $r['body'], $path );
				$this->assertStringNotContainsString( 'wns-sync-no-widget', $r['body'], $path );
				// An English site passes no table: the widget's words are already right.
				$this->assertDoesNotMatchRegularExpression( '#window\.wnsSync = \{[^\n]*"l10n"#', $r['body'], $path );
			}
			foreach ( array( '/wp-admin/index.php', '/wp-admin/edit.php', '/wp-admin/admin.php?page=wns-sync-settings', '/wp-admin/admin.php?page=wc-settings' ) as $path ) {
				$r = self::page( $path );
				$this->assertSame( 200, $r['status'], $path );
				$this->assertStringNotContainsString( 'wns_widget', $r['body'], $path );
				$this->assertStringNotContainsString( 'wns-sync.css', $r['body'], $path );
			}
		} finally {
			unlink( $mu );
		}
	}

	public function test_the_widget_gets_the_sites_translations() {
		$mu = self::fake_built_widget();
		// A site language, as a .mo file would give it: gettext for the plugin's text domain.
		$lang = WP_CONTENT_DIR . '/mu-plugins/wns-test-language.php';
		file_put_contents(
			$lang,
			"<?php add_filter( 'gettext', function ( \$t, \$text, \$domain ) { \$fr = array( 'Waiting' => 'En attente', 'Blocked · %s' => 'Bloquée · %s', 'Finance' => 'Finances' ); return 'wns-sync' === \$domain && isset( \$fr[ \$text ] ) ? \$fr[ \$text ] : \$t; }, 10, 3 );\n"
		);
		try {
			$r = self::page( $this->order_list() );
			$this->assertSame( 200, $r['status'] );
			$this->assertMatchesRegularExpression( '#<script[^>]+src=[\'"][^\'"]+assets/wns-sync-l10n\.js#', $r['body'] );
			$this->assertMatchesRegularExpression( '#window\.wnsSync = \{[^\n]*"l10n":\{#', $r['body'] );
			$this->assertStringContainsString( '"Waiting":"En attente"', $r['body'] );
			$this->assertStringContainsString( '"Finance":"Finances"', $r['body'] );
			$this->assertStringContainsString( '"Blocked \\u00b7 %s":"Bloqu\\u00e9e \\u00b7 %s"', $r['body'] );
			// The whole table, patterns included, even those this site leaves in English.
			$this->assertStringContainsString( '"Posted \\u00b7 %s":"Posted \\u00b7 %s"', $r['body'] );
		} finally {
			unlink( $lang );
			unlink( $mu );
		}
	}
}
