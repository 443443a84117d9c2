<?php
/**
 * Settings: the form's sanitising, who may save it, the WNS_SHARED_SECRET constant.
 *
 * @package wns-sync
 */

/**
 * Settings.
 */
class SettingsTest extends WnsTestCase {

	protected function setUp(): void {
		global $wp_settings_errors;
		$wp_settings_errors = array();
		self::configure( '', '' );
	}

	public function test_sanitize_keeps_good_values_and_refuses_bad_ones() {
		$clean = WNS_Settings::sanitize(
			array(
				'backend_url'   => ' https://wns.example.com/ ',
				'shared_secret' => self::SECRET,
			)
		);
		$this->assertSame( 'https://wns.example.com', $clean['backend_url'] );
		$this->assertSame( self::SECRET, $clean['shared_secret'] );
		update_option( WNS_SYNC_OPTION, $clean );

		$clean = WNS_Settings::sanitize(
			array(
				'backend_url'   => 'javascript:alert(1)',
				'shared_secret' => 'short',
			)
		);
		$this->assertSame( 'https://wns.example.com', $clean['backend_url'], 'a bad URL keeps the old one' );
		$this->assertSame( self::SECRET, $clean['shared_secret'], 'a short secret keeps the old one' );
		$codes = wp_list_pluck( get_settings_errors( WNS_SYNC_OPTION ), 'code' );
		$this->assertContains( 'wns_sync_bad_url', $codes );
		$this->assertContains( 'wns_sync_short_secret', $codes );

		$clean = WNS_Settings::sanitize( array( 'backend_url' => '', 'shared_secret' => '' ) );
		$this->assertSame( '', $clean['backend_url'] );
		$this->assertSame( self::SECRET, $clean['shared_secret'], 'an empty secret field keeps the saved secret' );
	}

	public function test_shop_manager_saves_through_the_form_and_customer_cannot() {
		$manager = self::user_in_role( 'shop_manager' );
		$jar     = self::login( $manager['login'], $manager['password'] );
		$page    = self::http( 'GET', '/wp-admin/admin.php?page=wns-sync-settings', array( 'cookies' => $jar ) );
		$this->assertSame( 200, $page['status'] );
		$this->assertMatchesRegularExpression( '/id="wns_sync_shared_secret"/', $page['body'] );
		$this->assertSame( 1, preg_match( '/name="_wpnonce" value="([0-9a-f]+)"/', $page['body'], $m ), 'the form has a nonce' );
		$form = array(
			'option_page'      => 'wns_sync',
			'action'           => 'update',
			'_wpnonce'         => $m[1],
			'_wp_http_referer' => '/wp-admin/admin.php?page=wns-sync-settings',
			WNS_SYNC_OPTION    => array(
				'backend_url'   => 'http://127.0.0.1:9',
				'shared_secret' => self::SECRET,
			),
		);
		$r = self::http( 'POST', '/wp-admin/options.php', array( 'cookies' => $jar, 'form' => $form ) );
		$this->assertSame( 302, $r['status'], $r['body'] );
		wp_cache_flush();
		$this->assertSame( 'http://127.0.0.1:9', WNS_Settings::backend_url() );
		$this->assertSame( self::SECRET, WNS_Settings::shared_secret() );

		// Without the nonce: refused, nothing saved.
		$form['_wpnonce']                       = 'bad';
		$form[ WNS_SYNC_OPTION ]['backend_url'] = 'http://changed.example';
		$r                                      = self::http( 'POST', '/wp-admin/options.php', array( 'cookies' => $jar, 'form' => $form ) );
		$this->assertNotSame( 302, $r['status'] );
		wp_cache_flush();
		$this->assertSame( 'http://127.0.0.1:9', WNS_Settings::backend_url() );

		$customer = self::login( self::store( 'customer_user' ), self::store( 'customer_password' ) );
		$r        = self::http( 'GET', '/wp-admin/admin.php?page=wns-sync-settings', array( 'cookies' => $customer ) );
		$this->assertStringNotContainsString( 'id="wns_sync_backend_url"', $r['body'] );
	}

	public function test_test_connection_reports_a_backend_that_is_down() {
		self::configure( self::SECRET, 'http://127.0.0.1:9' );
		$result = WNS_Settings::check_backend();
		$this->assertFalse( $result['ok'] );
		$this->assertStringContainsString( 'cannot be reached', $result['message'] );
		self::configure( self::SECRET, '' );
		$this->assertFalse( WNS_Settings::check_backend()['ok'] );
	}

	public function test_test_connection_reports_a_running_backend() {
		// A one-shot /livez answering 200, served by PHP's own server.
		$dir = sys_get_temp_dir() . '/wns-livez-' . getmypid();
		mkdir( $dir . '/livez', 0777, true );
		file_put_contents( $dir . '/livez/index.php', '<?php echo "ok";' );
		$port = self::free_port();
		$proc = proc_open( array( 'php', '-S', "127.0.0.1:$port", '-t', $dir ), array( array( 'pipe', 'r' ), array( 'file', '/dev/null', 'w' ), array( 'file', '/dev/null', 'w' ) ), $pipes );
		try {
			for ( $i = 0; $i < 50 && ! @fsockopen( '127.0.0.1', $port ); $i++ ) { // phpcs:ignore WordPress.PHP.NoSilencedErrors
				usleep( 100000 );
			}
			self::configure( self::SECRET, "http://127.0.0.1:$port" );
			$result = WNS_Settings::check_backend();
			$this->assertTrue( $result['ok'], $result['message'] );
		} finally {
			proc_terminate( $proc );
			proc_close( $proc );
		}
	}

	public function test_the_constant_hides_the_field_and_signs_tokens() {
		$mu = WP_CONTENT_DIR . '/mu-plugins/wns-test-constant.php';
		file_put_contents( $mu, "<?php define( 'WNS_SHARED_SECRET', '" . self::SECRET . "-from-constant' );\n" );
		try {
			self::configure( 'saved-secret-which-must-not-be-used-0123456789', '' );
			$jar  = self::login( self::store( 'admin_user' ), self::store( 'admin_password' ) );
			$page = self::http( 'GET', '/wp-admin/admin.php?page=wns-sync-settings', array( 'cookies' => $jar ) );
			$this->assertSame( 200, $page['status'] );
			$this->assertStringNotContainsString( 'id="wns_sync_shared_secret"', $page['body'] );
			$this->assertStringContainsString( 'id="wns-sync-secret-constant"', $page['body'] );
			$r = self::http( 'POST', '/wp-json/wns/v1/token', array( 'cookies' => $jar, 'headers' => array( 'X-WP-Nonce: ' . self::rest_nonce( $jar ) ) ) );
			$this->assertSame( 200, $r['status'], $r['body'] );
			list( $head, $body, $sig ) = explode( '.', $r['json']['token'] );
			$expected = rtrim( strtr( base64_encode( hash_hmac( 'sha256', "$head.$body", self::SECRET . '-from-constant', true ) ), '+/', '-_' ), '=' );
			$this->assertSame( $expected, $sig, 'signed with the constant, not the saved secret' );
		} finally {
			unlink( $mu );
		}
	}

	private static function free_port() {
		$s = stream_socket_server( 'tcp://127.0.0.1:0' );
		$port = (int) substr( strrchr( stream_socket_get_name( $s, false ), ':' ), 1 );
		fclose( $s );
		return $port;
	}
}
