<?php
/**
 * `POST /wp-json/wns/v1/token`: a short-lived HS256 token for wns's API, for the logged-in user.
 *
 * The claims are the ones wns checks (backend/src/api/auth.rs): `aud` = "wns", `iss` = this site's
 * URL, `sub` = the user id, `name`, `caps`, `iat`, `exp` at most 15 minutes after `iat`.
 *
 * @package wns-sync
 */

defined( 'ABSPATH' ) || exit;

/**
 * The token route and the signing.
 */
class WNS_Token {

	/** The longest life wns accepts. */
	const MAX_LIFETIME = 900;

	/** The capabilities wns knows. */
	const CAPS = array( 'view', 'map_skus', 'replay', 'resolve' );

	/**
	 * Registers the route.
	 */
	public static function register_routes() {
		register_rest_route(
			'wns/v1',
			'/token',
			array(
				'methods'             => WP_REST_Server::CREATABLE,
				'callback'            => array( __CLASS__, 'mint' ),
				'permission_callback' => array( __CLASS__, 'permission' ),
			)
		);
	}

	/**
	 * Only a logged-in user (cookie + X-WP-Nonce; WordPress drops a cookie sent without a nonce).
	 *
	 * @return true|WP_Error
	 */
	public static function permission() {
		if ( ! is_user_logged_in() ) {
			return new WP_Error( 'wns_not_logged_in', __( 'Log in to WordPress to use wns.', 'wns-sync' ), array( 'status' => 401 ) );
		}
		return true;
	}

	/**
	 * What wns may let `$user` do.
	 *
	 * @param WP_User $user The user.
	 * @return string[]
	 */
	public static function caps_for( $user ) {
		$caps = array();
		if ( user_can( $user, 'edit_shop_orders' ) ) {
			$caps[] = 'view';
		}
		if ( user_can( $user, 'edit_products' ) ) {
			$caps[] = 'map_skus';
		}
		if ( user_can( $user, 'manage_woocommerce' ) ) {
			$caps[] = 'replay';
			$caps[] = 'resolve';
		}
		/**
		 * Filters the wns capabilities a user's token carries.
		 *
		 * @param string[] $caps Some of view, map_skus, replay, resolve.
		 * @param WP_User  $user The user.
		 */
		$caps = apply_filters( 'wns_sync_token_caps', $caps, $user );
		$caps = is_array( $caps ) ? array_map( 'strval', $caps ) : array();
		return array_values( array_unique( array_intersect( $caps, self::CAPS ) ) );
	}

	/**
	 * Mints the token.
	 *
	 * @return WP_REST_Response|WP_Error
	 */
	public static function mint() {
		$secret = WNS_Settings::shared_secret();
		if ( strlen( $secret ) < WNS_Settings::MIN_SECRET ) {
			return new WP_Error(
				'wns_not_configured',
				__( 'wns Sync has no shared secret yet: set it under WooCommerce → wns Sync (or WNS_SHARED_SECRET in wp-config.php).', 'wns-sync' ),
				array( 'status' => 503 )
			);
		}
		$user = wp_get_current_user();
		$caps = self::caps_for( $user );
		if ( empty( $caps ) ) {
			return new WP_Error( 'wns_no_capability', __( 'Your role gives you nothing to do in wns.', 'wns-sync' ), array( 'status' => 403 ) );
		}
		/**
		 * Filters a token's life in seconds (60 to 900).
		 *
		 * @param int     $lifetime Seconds.
		 * @param WP_User $user     The user.
		 */
		$lifetime = (int) apply_filters( 'wns_sync_token_lifetime', self::MAX_LIFETIME, $user );
		$lifetime = max( 60, min( self::MAX_LIFETIME, $lifetime ) );
		$now      = time();
		$claims   = array(
			'iss'  => untrailingslashit( home_url() ),
			'sub'  => (string) $user->ID,
			'name' => $user->display_name,
			'aud'  => 'wns',
			'caps' => $caps,
			'iat'  => $now,
			'exp'  => $now + $lifetime,
		);
		// WordPress sends no-cache headers with every answer to a logged-in user.
		return new WP_REST_Response(
			array(
				'token'      => self::sign( $claims, $secret ),
				'issued_at'  => $claims['iat'],
				'expires_at' => $claims['exp'],
				'caps'       => $caps,
			)
		);
	}

	/**
	 * An HS256 JWT of `$claims`.
	 *
	 * @param array  $claims The payload.
	 * @param string $secret The shared secret.
	 * @return string
	 */
	public static function sign( array $claims, $secret ) {
		$encode = static function ( $data ) {
			return rtrim( strtr( base64_encode( $data ), '+/', '-_' ), '=' ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_encode
		};
		$head = $encode( wp_json_encode( array( 'alg' => 'HS256', 'typ' => 'JWT' ) ) );
		$body = $encode( wp_json_encode( $claims, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE ) );
		return $head . '.' . $body . '.' . $encode( hash_hmac( 'sha256', $head . '.' . $body, $secret, true ) );
	}
}
