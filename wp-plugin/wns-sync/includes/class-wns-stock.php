<?php
/**
 * `POST /wp-json/wns/v1/stock/adjust`: relative stock changes for wns's stock writes.
 *
 * WooCommerce's REST API sets `stock_quantity` absolutely, so a write from NetSuite would overwrite
 * sales made meanwhile. This route applies deltas with wc_update_product_stock( …, 'increase' |
 * 'decrease' ), one SQL statement each, and remembers each idempotency key for KEY_LIFE seconds so
 * a retried request is not applied twice. It answers exactly as wns's WooCommerce simulator does
 * (sim/src/woo/stock.rs):
 *
 * Body: {"items":[{"sku":"WNS-MUG","delta":-3,"idempotency_key":"…"}]}, at most 100 items.
 * 200: {"items":[{"sku","product_id","delta","idempotency_key","stock_quantity","replayed"}]} in
 * request order, or {"sku","idempotency_key","error":{"code","message"}} for an item that could not
 * apply. Stock may go below zero: NetSuite is the source of truth.
 *
 * Authenticated with WooCommerce REST keys (WooCommerce only authenticates its own namespaces; the
 * `woocommerce_rest_is_request_to_rest_api` filter adds this route) and allowed to users who may
 * edit products.
 *
 * @package wns-sync
 */

defined( 'ABSPATH' ) || exit;

/**
 * The stock route and its idempotency table.
 */
class WNS_Stock {

	const LIMIT = 100;

	/** How long an idempotency key is remembered. */
	const KEY_LIFE = 7 * DAY_IN_SECONDS;

	/** How long a request waits for another one applying the same key. */
	const KEY_WAIT = 10;

	const DB_VERSION = '1';

	/**
	 * The idempotency table's name.
	 *
	 * @return string
	 */
	public static function table() {
		global $wpdb;
		return $wpdb->prefix . 'wns_stock_keys';
	}

	/**
	 * Creates the table (on activation, and after an update that changed it).
	 */
	public static function install() {
		global $wpdb;
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		$table   = self::table();
		$charset = $wpdb->get_charset_collate();
		dbDelta(
			"CREATE TABLE {$table} (
  key_hash char(64) NOT NULL,
  answer longtext NULL,
  created_at bigint(20) unsigned NOT NULL,
  PRIMARY KEY  (key_hash),
  KEY created_at (created_at)
) {$charset};"
		);
		update_option( WNS_SYNC_DB_VERSION_OPTION, self::DB_VERSION );
	}

	/**
	 * Installs the table when the plugin was updated without a new activation.
	 */
	public static function maybe_upgrade() {
		if ( get_option( WNS_SYNC_DB_VERSION_OPTION ) !== self::DB_VERSION ) {
			self::install();
		}
	}

	/**
	 * Lets WooCommerce authenticate this route with its REST keys.
	 *
	 * @param bool $is Whether WooCommerce already treats the request as its own.
	 * @return bool
	 */
	public static function use_woocommerce_keys( $is ) {
		if ( $is || empty( $_SERVER['REQUEST_URI'] ) ) {
			return (bool) $is;
		}
		$uri = esc_url_raw( wp_unslash( $_SERVER['REQUEST_URI'] ) ); // phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized
		return false !== strpos( $uri, trailingslashit( rest_get_url_prefix() ) . 'wns/v1/stock/' );
	}

	/**
	 * Registers the route.
	 */
	public static function register_routes() {
		register_rest_route(
			'wns/v1',
			'/stock/adjust',
			array(
				'methods'             => WP_REST_Server::CREATABLE,
				'callback'            => array( __CLASS__, 'adjust' ),
				'permission_callback' => array( __CLASS__, 'permission' ),
			)
		);
	}

	/**
	 * Users who may edit products; WordPress answers 401 (logged out) or 403 otherwise.
	 *
	 * @return bool
	 */
	public static function permission() {
		return current_user_can( 'edit_products' );
	}

	/**
	 * The route.
	 *
	 * @param WP_REST_Request $request The request.
	 * @return WP_REST_Response|WP_Error
	 */
	public static function adjust( WP_REST_Request $request ) {
		$body  = $request->get_json_params();
		$items = is_array( $body ) && isset( $body['items'] ) ? $body['items'] : null;
		if ( ! is_array( $items ) || ! array_is_list( $items ) ) {
			return new WP_Error(
				'rest_missing_callback_param',
				/* translators: %s: parameter names. */
				sprintf( __( 'Missing parameter(s): %s', 'wns-sync' ), 'items' ),
				array(
					'status' => 400,
					'params' => array( 'items' ),
				)
			);
		}
		if ( count( $items ) > self::LIMIT ) {
			return new WP_Error(
				'wns_request_entity_too_large',
				/* translators: %d: the limit. */
				sprintf( __( 'Unable to accept more than %d items for this request.', 'wns-sync' ), self::LIMIT ),
				array( 'status' => 413 )
			);
		}
		self::forget_old_keys();
		$results = array();
		foreach ( $items as $item ) {
			$results[] = self::adjust_one( is_array( $item ) ? $item : array() );
		}
		return new WP_REST_Response( array( 'items' => $results ), 200 );
	}

	/**
	 * A JSON scalar as PHP would print it; arrays and objects as "".
	 *
	 * @param mixed $value The value.
	 * @return string
	 */
	private static function text( $value ) {
		return is_scalar( $value ) ? sanitize_text_field( (string) $value ) : '';
	}

	/**
	 * An integer given as a JSON number or a numeric string, else null.
	 *
	 * @param mixed $value The value.
	 * @return int|null
	 */
	private static function integer( $value ) {
		if ( is_int( $value ) ) {
			return $value;
		}
		if ( is_float( $value ) && is_finite( $value ) && floor( $value ) === $value && abs( $value ) < PHP_INT_MAX ) {
			return (int) $value;
		}
		if ( is_string( $value ) && preg_match( '/^\s*[+-]?\d{1,18}\s*$/', $value ) ) {
			return (int) trim( $value );
		}
		return null;
	}

	/**
	 * An item's error answer.
	 *
	 * @param string $sku     The SKU.
	 * @param string $key     The idempotency key.
	 * @param string $code    The error code.
	 * @param string $message The message.
	 * @return array
	 */
	private static function item_error( $sku, $key, $code, $message ) {
		return array(
			'sku'             => $sku,
			'idempotency_key' => $key,
			'error'           => array(
				'code'    => $code,
				'message' => $message,
			),
		);
	}

	/**
	 * Applies one item.
	 *
	 * @param array $item The item.
	 * @return array
	 */
	private static function adjust_one( array $item ) {
		global $wpdb;
		$sku   = self::text( $item['sku'] ?? null );
		$key   = self::text( $item['idempotency_key'] ?? null );
		$delta = self::integer( $item['delta'] ?? null );
		if ( null === $delta ) {
			return self::item_error( $sku, $key, 'wns_invalid_delta', __( 'delta must be an integer.', 'wns-sync' ) );
		}
		$table = self::table();
		$hash  = hash( 'sha256', $key );
		if ( '' !== $key ) {
			// One INSERT claims the key: of two requests with the same key only one applies it.
			$claimed = $wpdb->query( $wpdb->prepare( "INSERT IGNORE INTO {$table} (key_hash, answer, created_at) VALUES (%s, NULL, %d)", $hash, time() ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared, WordPress.DB.DirectDatabaseQuery
			if ( 1 !== $claimed ) {
				return self::replay( $hash, $item, $sku, $key );
			}
		}
		$id      = $sku !== '' ? wc_get_product_id_by_sku( $sku ) : 0;
		$product = $id ? wc_get_product( $id ) : null;
		if ( ! $product ) {
			self::release( $hash, $key );
			return self::item_error( $sku, $key, 'wns_unknown_sku', __( 'No product has this SKU.', 'wns-sync' ) );
		}
		if ( ! $product->managing_stock() ) {
			self::release( $hash, $key );
			return self::item_error( $sku, $key, 'wns_stock_not_managed', __( 'This product does not manage stock.', 'wns-sync' ) );
		}
		$new    = 0 === $delta
			? $product->get_stock_quantity()
			: wc_update_product_stock( $product, abs( $delta ), $delta > 0 ? 'increase' : 'decrease' );
		$answer = array(
			'sku'             => $sku,
			'product_id'      => $product->get_id(),
			'delta'           => $delta,
			'idempotency_key' => $key,
			'stock_quantity'  => (int) wc_stock_amount( $new ),
			'replayed'        => false,
		);
		if ( '' !== $key ) {
			$wpdb->update( $table, array( 'answer' => wp_json_encode( $answer ) ), array( 'key_hash' => $hash ) ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery
		}
		return $answer;
	}

	/**
	 * The first answer for a key seen before, marked as replayed; waits while another request is
	 * still applying it.
	 *
	 * @param string $hash The key's hash.
	 * @param array  $item The item, applied after all when the other request let the key go.
	 * @param string $sku  The SKU sent.
	 * @param string $key  The key sent.
	 * @return array
	 */
	private static function replay( $hash, array $item, $sku, $key ) {
		global $wpdb;
		$table    = self::table();
		$deadline = microtime( true ) + self::KEY_WAIT;
		do {
			$row = $wpdb->get_row( $wpdb->prepare( "SELECT answer FROM {$table} WHERE key_hash = %s", $hash ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared, WordPress.DB.DirectDatabaseQuery
			if ( $row && null !== $row->answer ) {
				$answer             = json_decode( $row->answer, true );
				$answer['replayed'] = true;
				return $answer;
			}
			if ( ! $row ) {
				// The other request failed and let the key go: this one may try.
				return self::adjust_one( $item );
			}
			usleep( 50000 );
		} while ( microtime( true ) < $deadline );
		return self::item_error( $sku, $key, 'wns_key_in_progress', __( 'Another request is applying this idempotency key; retry later.', 'wns-sync' ) );
	}

	/**
	 * Lets a key go after its item failed, so that a retry applies it.
	 *
	 * @param string $hash The key's hash.
	 * @param string $key  The key.
	 */
	private static function release( $hash, $key ) {
		global $wpdb;
		if ( '' !== $key ) {
			$wpdb->delete( self::table(), array( 'key_hash' => $hash ) ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery
		}
	}

	/**
	 * Forgets keys older than KEY_LIFE.
	 */
	private static function forget_old_keys() {
		global $wpdb;
		$table = self::table();
		$wpdb->query( $wpdb->prepare( "DELETE FROM {$table} WHERE created_at < %d LIMIT 1000", time() - self::KEY_LIFE ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared, WordPress.DB.DirectDatabaseQuery
	}
}
