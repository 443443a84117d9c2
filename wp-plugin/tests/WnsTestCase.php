<?php
/**
 * Shared helpers: HTTP to the store, logging users in, users with given capabilities.
 *
 * @package wns-sync
 */

use PHPUnit\Framework\TestCase;

/**
 * Base class of the wns-sync tests.
 */
abstract class WnsTestCase extends TestCase {

	/** A secret as long as wns asks for. */
	const SECRET = 'test-secret-0123456789-abcdefghijklmnop';

	/**
	 * The store's details (store.json).
	 *
	 * @param string $key A key of store.json.
	 * @return mixed
	 */
	protected static function store( $key ) {
		return $GLOBALS['wns_store'][ $key ];
	}

	/**
	 * One HTTP request to the store.
	 *
	 * @param string      $method  GET, POST…
	 * @param string      $path    From the site root, such as /wp-json/wns/v1/token.
	 * @param array       $opts    body (string or array → JSON), headers (list), cookies (file), auth (user:pass), form (array).
	 * @return array{status: int, body: string, json: mixed, headers: string}
	 */
	protected static function http( $method, $path, array $opts = array() ) {
		$ch      = curl_init( self::store( 'url' ) . $path );
		$headers = $opts['headers'] ?? array();
		curl_setopt( $ch, CURLOPT_CUSTOMREQUEST, $method );
		curl_setopt( $ch, CURLOPT_RETURNTRANSFER, true );
		curl_setopt( $ch, CURLOPT_HEADER, true );
		curl_setopt( $ch, CURLOPT_TIMEOUT, 60 );
		if ( isset( $opts['json'] ) ) {
			$headers[] = 'Content-Type: application/json';
			curl_setopt( $ch, CURLOPT_POSTFIELDS, is_string( $opts['json'] ) ? $opts['json'] : wp_json_encode( $opts['json'] ) );
		} elseif ( isset( $opts['form'] ) ) {
			curl_setopt( $ch, CURLOPT_POSTFIELDS, http_build_query( $opts['form'] ) );
		}
		if ( isset( $opts['cookies'] ) ) {
			curl_setopt( $ch, CURLOPT_COOKIEFILE, $opts['cookies'] );
			curl_setopt( $ch, CURLOPT_COOKIEJAR, $opts['cookies'] );
		}
		if ( isset( $opts['auth'] ) ) {
			curl_setopt( $ch, CURLOPT_USERPWD, $opts['auth'] );
		}
		curl_setopt( $ch, CURLOPT_HTTPHEADER, $headers );
		$raw = curl_exec( $ch );
		if ( false === $raw ) {
			throw new RuntimeException( "$method $path: " . curl_error( $ch ) );
		}
		$size = curl_getinfo( $ch, CURLINFO_HEADER_SIZE );
		$body = substr( $raw, $size );
		return array(
			'status'  => (int) curl_getinfo( $ch, CURLINFO_RESPONSE_CODE ),
			'headers' => substr( $raw, 0, $size ),
			'body'    => $body,
			'json'    => json_decode( $body, true ),
		);
	}

	/**
	 * A user with a role made of exactly `$caps` (plus read), made for this test.
	 *
	 * @param string[] $caps WordPress capabilities.
	 * @return array{id: int, login: string, password: string}
	 */
	protected static function user_with( array $caps ) {
		$role = 'wns_test_' . md5( implode( ',', $caps ) );
		if ( ! get_role( $role ) ) {
			add_role( $role, $role, array_fill_keys( array_merge( array( 'read' ), $caps ), true ) );
		}
		return self::user_in_role( $role );
	}

	/**
	 * A new user in `$role`.
	 *
	 * @param string $role The role.
	 * @return array{id: int, login: string, password: string}
	 */
	protected static function user_in_role( $role ) {
		$login    = 'wns_' . wp_generate_password( 8, false );
		$password = wp_generate_password( 16, false );
		$id       = wp_insert_user(
			array(
				'user_login'   => $login,
				'user_pass'    => $password,
				'user_email'   => $login . '@example.test',
				'role'         => $role,
				'display_name' => 'Tester ' . $login,
			)
		);
		if ( is_wp_error( $id ) ) {
			throw new RuntimeException( $id->get_error_message() );
		}
		return array(
			'id'       => $id,
			'login'    => $login,
			'password' => $password,
		);
	}

	/**
	 * Logs in through wp-login.php like a browser.
	 *
	 * @param string $login    The user.
	 * @param string $password The password.
	 * @return string The cookie file.
	 */
	protected static function login( $login, $password ) {
		$jar = tempnam( sys_get_temp_dir(), 'wns-cookies' );
		file_put_contents( $jar, "127.0.0.1\tFALSE\t/\tFALSE\t0\twordpress_test_cookie\tWP%20Cookie%20check\n" );
		$r = self::http(
			'POST',
			'/wp-login.php',
			array(
				'cookies' => $jar,
				'form'    => array(
					'log'        => $login,
					'pwd'        => $password,
					'wp-submit'  => 'Log In',
					'testcookie' => '1',
				),
			)
		);
		if ( 302 !== $r['status'] ) {
			throw new RuntimeException( "logging $login in failed: HTTP {$r['status']}" );
		}
		return $jar;
	}

	/**
	 * The REST nonce of a logged-in session, as wp-admin hands it to scripts.
	 *
	 * @param string $jar The cookie file.
	 * @return string
	 */
	protected static function rest_nonce( $jar ) {
		$r = self::http( 'GET', '/wp-admin/admin-ajax.php?action=rest-nonce', array( 'cookies' => $jar ) );
		if ( 200 !== $r['status'] || ! preg_match( '/^[0-9a-f]{10}$/', $r['body'] ) ) {
			throw new RuntimeException( "no REST nonce: HTTP {$r['status']} {$r['body']}" );
		}
		return $r['body'];
	}

	/**
	 * Sets the saved settings directly.
	 *
	 * @param string $secret The shared secret.
	 * @param string $url    The backend URL.
	 */
	protected static function configure( $secret = self::SECRET, $url = '' ) {
		update_option(
			WNS_SYNC_OPTION,
			array(
				'backend_url'   => $url,
				'shared_secret' => $secret,
			)
		);
	}
}
