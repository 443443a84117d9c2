<?php
/**
 * `POST /wp-json/wns/v1/token`: who gets a token, what it says, and that wns's own verifier
 * (`wns verify-token`, backend/src/api/auth.rs) accepts it.
 *
 * @package wns-sync
 */

/**
 * User tokens.
 */
class TokenTest extends WnsTestCase {

	protected function setUp(): void {
		self::configure();
	}

	/**
	 * Logs `$user` in and asks for a token.
	 *
	 * @param array $user login and password.
	 * @return array The HTTP answer.
	 */
	private static function token_for( array $user ) {
		$jar = self::login( $user['login'], $user['password'] );
		return self::http( 'POST', '/wp-json/wns/v1/token', array( 'cookies' => $jar, 'headers' => array( 'X-WP-Nonce: ' . self::rest_nonce( $jar ) ) ) );
	}

	private static function claims( $token ) {
		$parts = explode( '.', $token );
		return array(
			json_decode( base64_decode( strtr( $parts[0], '-_', '+/' ) ), true ),
			json_decode( base64_decode( strtr( $parts[1], '-_', '+/' ) ), true ),
		);
	}

	public function test_logged_out_gets_401() {
		$r = self::http( 'POST', '/wp-json/wns/v1/token' );
		$this->assertSame( 401, $r['status'] );
		$this->assertArrayNotHasKey( 'token', (array) $r['json'] );
	}

	public function test_cookie_without_nonce_is_refused() {
		$jar = self::login( self::store( 'admin_user' ), self::store( 'admin_password' ) );
		$r   = self::http( 'POST', '/wp-json/wns/v1/token', array( 'cookies' => $jar ) );
		$this->assertSame( 401, $r['status'], 'WordPress ignores a cookie sent without X-WP-Nonce' );
		$r = self::http( 'POST', '/wp-json/wns/v1/token', array( 'cookies' => $jar, 'headers' => array( 'X-WP-Nonce: 0123456789' ) ) );
		$this->assertSame( 403, $r['status'] );
		$this->assertSame( 'rest_cookie_invalid_nonce', $r['json']['code'] );
	}

	public function test_unconfigured_plugin_mints_nothing() {
		self::configure( '' );
		$admin = array( 'login' => self::store( 'admin_user' ), 'password' => self::store( 'admin_password' ) );
		$r     = self::token_for( $admin );
		$this->assertSame( 503, $r['status'] );
		$this->assertSame( 'wns_not_configured', $r['json']['code'] );
	}

	/**
	 * @dataProvider capability_mappings
	 */
	public function test_each_capability_maps( array $wp_caps, array $expected ) {
		$user = self::user_with( $wp_caps );
		$r    = self::token_for( $user );
		if ( empty( $expected ) ) {
			$this->assertSame( 403, $r['status'], $r['body'] );
			$this->assertSame( 'wns_no_capability', $r['json']['code'] );
			return;
		}
		$this->assertSame( 200, $r['status'], $r['body'] );
		$this->assertSame( $expected, $r['json']['caps'] );
		list( , $claims ) = self::claims( $r['json']['token'] );
		$this->assertSame( $expected, $claims['caps'] );
		$this->assertSame( (string) $user['id'], $claims['sub'] );
	}

	public function capability_mappings() {
		return array(
			'edit_shop_orders → view'                     => array( array( 'edit_shop_orders' ), array( 'view' ) ),
			'edit_products → map_skus'                    => array( array( 'edit_products' ), array( 'map_skus' ) ),
			'manage_woocommerce → replay, resolve'        => array( array( 'manage_woocommerce' ), array( 'replay', 'resolve' ) ),
			'all three → everything'                      => array( array( 'edit_shop_orders', 'edit_products', 'manage_woocommerce' ), array( 'view', 'map_skus', 'replay', 'resolve' ) ),
			'a subscriber-like role → refused'            => array( array(), array() ),
		);
	}

	public function test_customer_gets_no_token() {
		$r = self::token_for( array( 'login' => self::store( 'customer_user' ), 'password' => self::store( 'customer_password' ) ) );
		$this->assertSame( 403, $r['status'] );
	}

	public function test_caps_are_filterable_and_unknown_ones_dropped() {
		$user   = get_user_by( 'login', self::store( 'admin_user' ) );
		$filter = static function ( $caps ) {
			return array_merge( array_diff( $caps, array( 'replay' ) ), array( 'launch_rockets' ) );
		};
		add_filter( 'wns_sync_token_caps', $filter );
		try {
			$this->assertSame( array( 'view', 'map_skus', 'resolve' ), WNS_Token::caps_for( $user ) );
		} finally {
			remove_filter( 'wns_sync_token_caps', $filter );
		}
	}

	public function test_claims_and_expiry() {
		$before = time();
		$r      = self::token_for( array( 'login' => self::store( 'admin_user' ), 'password' => self::store( 'admin_password' ) ) );
		$this->assertSame( 200, $r['status'], $r['body'] );
		$this->assertMatchesRegularExpression( '/^cache-control: no-cache/mi', $r['headers'], 'never cached' );
		list( $head, $claims ) = self::claims( $r['json']['token'] );
		$this->assertSame( 'HS256', $head['alg'] );
		$this->assertSame( 'wns', $claims['aud'] );
		$this->assertSame( untrailingslashit( self::store( 'url' ) ), $claims['iss'] );
		$this->assertGreaterThanOrEqual( $before, $claims['iat'] );
		$this->assertLessThanOrEqual( time(), $claims['iat'] );
		$this->assertSame( 900, $claims['exp'] - $claims['iat'], 'the 15 minutes wns allows at most' );
		$this->assertSame( $claims['exp'], $r['json']['expires_at'] );
		$this->assertSame( $claims['iat'], $r['json']['issued_at'], 'the widget measures the life from it' );
	}

	public function test_the_backends_verifier_accepts_it_and_refuses_forgeries() {
		$wns = getenv( 'WNS_BIN' );
		if ( ! $wns || ! is_executable( $wns ) ) {
			$this->fail( 'WNS_BIN must name the wns binary (cargo xtask test builds it and sets it)' );
		}
		$r = self::token_for( array( 'login' => self::store( 'admin_user' ), 'password' => self::store( 'admin_password' ) ) );
		$this->assertSame( 200, $r['status'], $r['body'] );
		$token = $r['json']['token'];
		list( , $claims ) = self::claims( $token );
		$site = untrailingslashit( self::store( 'url' ) );

		$ok = self::verify( $wns, self::SECRET, $site, $token, $claims['iat'] + 1 );
		$this->assertSame( 0, $ok['code'], $ok['out'] );
		$this->assertStringContainsString( "accepted: user:{$site}#{$claims['sub']}", $ok['out'] );
		$this->assertStringContainsString( 'may view,map_skus,replay,resolve', $ok['out'] );

		$wrong_secret = self::verify( $wns, self::SECRET . 'x', $site, $token, $claims['iat'] + 1 );
		$this->assertSame( 1, $wrong_secret['code'], $wrong_secret['out'] );
		$this->assertStringContainsString( 'signature', $wrong_secret['out'] );

		$other_site = self::verify( $wns, self::SECRET, 'https://other.example', $token, $claims['iat'] + 1 );
		$this->assertSame( 1, $other_site['code'], $other_site['out'] );

		$expired = self::verify( $wns, self::SECRET, $site, $token, $claims['exp'] + 31 );
		$this->assertSame( 1, $expired['code'], $expired['out'] );
		$this->assertStringContainsString( 'expired', $expired['out'] );

		list( $h, $b, $s ) = explode( '.', $token );
		$forged_claims     = $claims;
		$forged_claims['sub'] = '999';
		$forged = $h . '.' . rtrim( strtr( base64_encode( wp_json_encode( $forged_claims ) ), '+/', '-_' ), '=' ) . '.' . $s;
		$this->assertSame( 1, self::verify( $wns, self::SECRET, $site, $forged, $claims['iat'] + 1 )['code'] );
	}

	/**
	 * Runs `wns --config <file> verify-token --at <now>` with the token on stdin.
	 */
	private static function verify( $wns, $secret, $site, $token, $at ) {
		$config = tempnam( sys_get_temp_dir(), 'wns-toml' ) . '.toml';
		file_put_contents( $config, "[api]\njwt_secret = \"$secret\"\nsites = [\"$site\"]\n" );
		$proc = proc_open(
			array( $wns, '--config', $config, 'verify-token', '--at', (string) $at ),
			array( array( 'pipe', 'r' ), array( 'pipe', 'w' ), array( 'pipe', 'w' ) ),
			$pipes
		);
		fwrite( $pipes[0], $token );
		fclose( $pipes[0] );
		$out  = stream_get_contents( $pipes[1] ) . stream_get_contents( $pipes[2] );
		$code = proc_close( $proc );
		unlink( $config );
		return array( 'code' => $code, 'out' => $out );
	}
}
