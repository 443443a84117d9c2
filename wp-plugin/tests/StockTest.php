<?php
/**
 * `POST /wp-json/wns/v1/stock/adjust` with WooCommerce REST keys, as wns's backend calls it:
 * OAuth 1.0a over http, Basic behind an https proxy; answers as the simulator's (sim/src/woo/stock.rs).
 *
 * @package wns-sync
 */

/**
 * The atomic stock route.
 */
class StockTest extends WnsTestCase {

	const ROUTE = '/wp-json/wns/v1/stock/adjust';

	/**
	 * A curl handle for a request signed with OAuth 1.0a (HMAC-SHA256, one-legged), as
	 * WooCommerce checks it over plain http.
	 */
	private static function oauth_handle( $path, $body, $ck = null, $cs = null ) {
		$ck     = $ck ?? self::store( 'consumer_key' );
		$cs     = $cs ?? self::store( 'consumer_secret' );
		$url    = self::store( 'url' ) . $path;
		$params = array(
			'oauth_consumer_key'     => $ck,
			'oauth_nonce'            => bin2hex( random_bytes( 16 ) ),
			'oauth_signature_method' => 'HMAC-SHA256',
			'oauth_timestamp'        => (string) time(),
		);
		ksort( $params, SORT_STRING );
		$pairs = array();
		foreach ( $params as $k => $v ) {
			$pairs[] = rawurlencode( $k ) . '%3D' . rawurlencode( $v );
		}
		$base                      = 'POST&' . rawurlencode( $url ) . '&' . implode( '%26', $pairs );
		$params['oauth_signature'] = base64_encode( hash_hmac( 'sha256', $base, $cs . '&', true ) );
		$ch                        = curl_init( $url . '?' . http_build_query( $params, '', '&', PHP_QUERY_RFC3986 ) );
		curl_setopt( $ch, CURLOPT_POST, true );
		curl_setopt( $ch, CURLOPT_POSTFIELDS, is_string( $body ) ? $body : wp_json_encode( $body ) );
		curl_setopt( $ch, CURLOPT_HTTPHEADER, array( 'Content-Type: application/json' ) );
		curl_setopt( $ch, CURLOPT_RETURNTRANSFER, true );
		curl_setopt( $ch, CURLOPT_TIMEOUT, 120 );
		return $ch;
	}

	/**
	 * One signed request; [status, decoded JSON].
	 */
	private static function adjust( $body, $ck = null, $cs = null ) {
		$ch   = self::oauth_handle( self::ROUTE, $body, $ck, $cs );
		$text = curl_exec( $ch );
		return array( (int) curl_getinfo( $ch, CURLINFO_RESPONSE_CODE ), json_decode( (string) $text, true ), $text );
	}

	/**
	 * Many signed requests at once; the decoded answers in order.
	 */
	private static function adjust_concurrently( array $bodies ) {
		$multi   = curl_multi_init();
		$handles = array();
		foreach ( $bodies as $body ) {
			$handles[] = self::oauth_handle( self::ROUTE, $body );
			curl_multi_add_handle( $multi, end( $handles ) );
		}
		do {
			$status = curl_multi_exec( $multi, $running );
			if ( $running ) {
				curl_multi_select( $multi, 1.0 );
			}
		} while ( $running && CURLM_OK === $status );
		$answers = array();
		foreach ( $handles as $ch ) {
			$answers[] = array( (int) curl_getinfo( $ch, CURLINFO_RESPONSE_CODE ), json_decode( (string) curl_multi_getcontent( $ch ), true ) );
			curl_multi_remove_handle( $multi, $ch );
		}
		curl_multi_close( $multi );
		return $answers;
	}

	/**
	 * The stock in the database, past every cache.
	 */
	private static function stock( $sku ) {
		global $wpdb;
		$id = self::store( 'products' )[ $sku ];
		return (int) $wpdb->get_var( $wpdb->prepare( "SELECT meta_value FROM {$wpdb->postmeta} WHERE post_id = %d AND meta_key = '_stock'", $id ) );
	}

	private static function key() {
		return 'test-' . bin2hex( random_bytes( 8 ) );
	}

	public function test_applies_relative_changes_to_products_and_variations() {
		$mug = self::stock( 'WNS-MUG' );
		$tee = self::stock( 'WNS-TEE-M' );
		$k1  = self::key();
		$k2  = self::key();
		list( $status, $json, $raw ) = self::adjust(
			array(
				'items' => array(
					array( 'sku' => 'WNS-MUG', 'delta' => -3, 'idempotency_key' => $k1 ),
					array( 'sku' => 'WNS-TEE-M', 'delta' => '4', 'idempotency_key' => $k2 ),
				),
			)
		);
		$this->assertSame( 200, $status, $raw );
		$this->assertSame(
			array(
				'items' => array(
					array( 'sku' => 'WNS-MUG', 'product_id' => self::store( 'products' )['WNS-MUG'], 'delta' => -3, 'idempotency_key' => $k1, 'stock_quantity' => $mug - 3, 'replayed' => false ),
					array( 'sku' => 'WNS-TEE-M', 'product_id' => self::store( 'products' )['WNS-TEE-M'], 'delta' => 4, 'idempotency_key' => $k2, 'stock_quantity' => $tee + 4, 'replayed' => false ),
				),
			),
			$json
		);
		$this->assertSame( $mug - 3, self::stock( 'WNS-MUG' ) );
		$this->assertSame( $tee + 4, self::stock( 'WNS-TEE-M' ) );
	}

	public function test_items_fail_one_by_one_like_the_simulator() {
		$poster = self::stock( 'WNS-POSTER' );
		list( $status, $json ) = self::adjust(
			array(
				'items' => array(
					array( 'sku' => 'NO-SUCH-SKU', 'delta' => 1, 'idempotency_key' => 'a' . self::key() ),
					array( 'sku' => 'WNS-GIFT', 'delta' => 1, 'idempotency_key' => '' ),
					array( 'sku' => 'WNS-POSTER', 'delta' => 1.5, 'idempotency_key' => 'b' ),
					array( 'sku' => 'WNS-POSTER', 'delta' => -25 ),
				),
			)
		);
		$this->assertSame( 200, $status );
		$this->assertSame( 'wns_unknown_sku', $json['items'][0]['error']['code'] );
		$this->assertSame( 'No product has this SKU.', $json['items'][0]['error']['message'] );
		$this->assertSame( array( 'sku', 'idempotency_key', 'error' ), array_keys( $json['items'][0] ) );
		$this->assertSame( 'wns_stock_not_managed', $json['items'][1]['error']['code'] );
		$this->assertSame( 'wns_invalid_delta', $json['items'][2]['error']['code'] );
		$this->assertSame( $poster - 25, $json['items'][3]['stock_quantity'], 'stock may go below zero' );
		$this->assertSame( $poster - 25, self::stock( 'WNS-POSTER' ) );
		self::adjust( array( 'items' => array( array( 'sku' => 'WNS-POSTER', 'delta' => 25 ) ) ) );
	}

	public function test_a_failed_item_does_not_burn_its_key() {
		$key = self::key();
		list( , $json ) = self::adjust( array( 'items' => array( array( 'sku' => 'NO-SUCH-SKU', 'delta' => 1, 'idempotency_key' => $key ) ) ) );
		$this->assertSame( 'wns_unknown_sku', $json['items'][0]['error']['code'] );
		$before = self::stock( 'WNS-MUG' );
		list( , $json ) = self::adjust( array( 'items' => array( array( 'sku' => 'WNS-MUG', 'delta' => 1, 'idempotency_key' => $key ) ) ) );
		$this->assertFalse( $json['items'][0]['replayed'] );
		$this->assertSame( $before + 1, self::stock( 'WNS-MUG' ) );
	}

	public function test_a_replayed_key_changes_nothing() {
		$key   = self::key();
		$first = self::adjust( array( 'items' => array( array( 'sku' => 'WNS-MUG', 'delta' => -2, 'idempotency_key' => $key ) ) ) )[1]['items'][0];
		$after = self::stock( 'WNS-MUG' );
		$again = self::adjust( array( 'items' => array( array( 'sku' => 'WNS-MUG', 'delta' => -2, 'idempotency_key' => $key ) ) ) )[1]['items'][0];
		$this->assertSame( $after, self::stock( 'WNS-MUG' ) );
		$this->assertTrue( $again['replayed'] );
		$first['replayed'] = true;
		$this->assertSame( $first, $again, 'the first answer, marked replayed' );

		// Eight clients sending one new key at the same moment: applied once.
		$key     = self::key();
		$before  = self::stock( 'WNS-MUG' );
		$answers = self::adjust_concurrently( array_fill( 0, 8, array( 'items' => array( array( 'sku' => 'WNS-MUG', 'delta' => -1, 'idempotency_key' => $key ) ) ) ) );
		$fresh   = 0;
		foreach ( $answers as list( $status, $json ) ) {
			$this->assertSame( 200, $status );
			$this->assertSame( $before - 1, $json['items'][0]['stock_quantity'] );
			$fresh += $json['items'][0]['replayed'] ? 0 : 1;
		}
		$this->assertSame( 1, $fresh );
		$this->assertSame( $before - 1, self::stock( 'WNS-MUG' ) );
	}

	public function test_eight_concurrent_clients_lose_no_unit() {
		$before  = self::stock( 'WNS-TEE-S' );
		$bodies  = array();
		$expect  = 0;
		for ( $client = 0; $client < 8; $client++ ) {
			for ( $round = 0; $round < 3; $round++ ) {
				$items = array();
				for ( $i = 0; $i < 5; $i++ ) {
					$delta    = ( $client % 2 ) ? 3 : -1;
					$expect  += $delta;
					$items[]  = array( 'sku' => 'WNS-TEE-S', 'delta' => $delta, 'idempotency_key' => self::key() );
				}
				$bodies[] = array( 'items' => $items );
			}
		}
		$answers = self::adjust_concurrently( $bodies );
		foreach ( $answers as list( $status, $json ) ) {
			$this->assertSame( 200, $status );
			foreach ( $json['items'] as $item ) {
				$this->assertArrayNotHasKey( 'error', $item );
			}
		}
		$this->assertSame( $before + $expect, self::stock( 'WNS-TEE-S' ), '24 requests, 120 changes' );
		$product = wc_get_product( self::store( 'products' )['WNS-TEE-S'] );
		$this->assertSame( $before + $expect, (int) $product->get_stock_quantity() );
	}

	public function test_basic_auth_behind_an_https_proxy() {
		$before = self::stock( 'WNS-MUG' );
		$r      = self::http(
			'POST',
			self::ROUTE,
			array(
				'json'    => array( 'items' => array( array( 'sku' => 'WNS-MUG', 'delta' => 1, 'idempotency_key' => self::key() ) ) ),
				'auth'    => self::store( 'consumer_key' ) . ':' . self::store( 'consumer_secret' ),
				'headers' => array( 'X-Forwarded-Proto: https' ),
			)
		);
		$this->assertSame( 200, $r['status'], $r['body'] );
		$this->assertSame( $before + 1, self::stock( 'WNS-MUG' ) );
	}

	public function test_refusals() {
		$body = array( 'items' => array( array( 'sku' => 'WNS-MUG', 'delta' => 1, 'idempotency_key' => self::key() ) ) );
		$before = self::stock( 'WNS-MUG' );

		$r = self::http( 'POST', self::ROUTE, array( 'json' => $body ) );
		$this->assertSame( 401, $r['status'] );
		$this->assertSame( array( 'code' => 'rest_forbidden', 'message' => 'Sorry, you are not allowed to do that.', 'data' => array( 'status' => 401 ) ), $r['json'] );

		// Keys of a user who may look at orders but not edit products.
		global $wpdb;
		$clerk = self::user_with( array( 'edit_shop_orders' ) );
		$ck    = 'ck_' . wc_rand_hash();
		$cs    = 'cs_' . wc_rand_hash();
		$wpdb->insert(
			$wpdb->prefix . 'woocommerce_api_keys',
			array(
				'user_id'         => $clerk['id'],
				'description'     => 'clerk',
				'permissions'     => 'read_write',
				'consumer_key'    => wc_api_hash( $ck ),
				'consumer_secret' => $cs,
				'truncated_key'   => substr( $ck, -7 ),
			)
		);
		list( $status, $json ) = self::adjust( $body, $ck, $cs );
		$this->assertSame( 403, $status );
		$this->assertSame( 'rest_forbidden', $json['code'] );

		// Read-only keys of an administrator: WooCommerce refuses the write.
		$wpdb->update( $wpdb->prefix . 'woocommerce_api_keys', array( 'permissions' => 'read', 'user_id' => get_user_by( 'login', 'admin' )->ID ), array( 'consumer_key' => wc_api_hash( $ck ) ) );
		list( $status ) = self::adjust( $body, $ck, $cs );
		$this->assertSame( 401, $status );

		list( $status, $json ) = self::adjust( $body, self::store( 'consumer_key' ), 'cs_wrong' );
		$this->assertSame( 401, $status );
		$this->assertSame( $before, self::stock( 'WNS-MUG' ) );

		list( $status, $json ) = self::adjust( array( 'things' => array() ) );
		$this->assertSame( 400, $status );
		$this->assertSame( array( 'code' => 'rest_missing_callback_param', 'message' => 'Missing parameter(s): items', 'data' => array( 'status' => 400, 'params' => array( 'items' ) ) ), $json );

		list( $status, $json ) = self::adjust( array( 'items' => array_fill( 0, 101, $body['items'][0] ) ) );
		$this->assertSame( 413, $status );
		$this->assertSame( 'wns_request_entity_too_large', $json['code'] );
		$this->assertSame( 'Unable to accept more than 100 items for this request.', $json['message'] );
		$this->assertSame( $before, self::stock( 'WNS-MUG' ) );
	}

	public function test_the_backend_finds_the_route_in_the_namespace_index() {
		$r = self::http( 'GET', '/wp-json/wns/v1' );
		$this->assertSame( 200, $r['status'] );
		$this->assertArrayHasKey( '/wns/v1/stock/adjust', $r['json']['routes'] );
		$this->assertSame( array( 'POST' ), $r['json']['routes']['/wns/v1/stock/adjust']['methods'] );
	}
}
