<?php
/**
 * The simulator (`woo-sim`, sim/src/woo/stock.rs) and the real route answer the same requests
 * identically: the same status and the same JSON, item by item (product ids aside, which differ
 * between the two catalogues).
 *
 * @package wns-sync
 */

/**
 * Simulator parity of wns/v1.
 */
class SimParityTest extends WnsTestCase {

	/** @var resource|null */
	private static $sim;

	/** @var array{url: string, key: string, secret: string} */
	private static $sim_store;

	public static function setUpBeforeClass(): void {
		$bin = getenv( 'WNS_WOO_SIM' );
		if ( ! $bin || ! is_executable( $bin ) ) {
			self::fail( 'WNS_WOO_SIM must name the woo-sim binary (cargo xtask test builds it and sets it)' );
		}
		$s    = stream_socket_server( 'tcp://127.0.0.1:0' );
		$port = (int) substr( strrchr( stream_socket_get_name( $s, false ), ':' ), 1 );
		fclose( $s );
		self::$sim = proc_open( array( $bin, '--listen', "127.0.0.1:$port", '--https' ), array( array( 'pipe', 'r' ), array( 'pipe', 'w' ), array( 'file', '/dev/null', 'w' ) ), $pipes );
		$printed   = '';
		while ( ! str_contains( $printed, 'consumer secret' ) && ( $line = fgets( $pipes[1] ) ) !== false ) {
			$printed .= $line;
		}
		if ( ! preg_match( '/consumer key\s+(\S+)/', $printed, $k ) || ! preg_match( '/consumer secret\s+(\S+)/', $printed, $c ) ) {
			self::fail( "woo-sim printed no REST keys: $printed" );
		}
		self::$sim_store = array(
			'url'    => "http://127.0.0.1:$port",
			'key'    => $k[1],
			'secret' => $c[1],
		);
	}

	public static function tearDownAfterClass(): void {
		if ( self::$sim ) {
			proc_terminate( self::$sim );
			proc_close( self::$sim );
		}
	}

	/**
	 * A request to one of the two, with Basic auth behind "https" as wns sends it there.
	 */
	private static function call( $target, $method, $path, $body, $auth = true ) {
		$real = 'real' === $target;
		$url  = ( $real ? self::store( 'url' ) : self::$sim_store['url'] ) . $path;
		$ch   = curl_init( $url );
		curl_setopt( $ch, CURLOPT_CUSTOMREQUEST, $method );
		curl_setopt( $ch, CURLOPT_RETURNTRANSFER, true );
		curl_setopt( $ch, CURLOPT_HTTPHEADER, array( 'Content-Type: application/json', 'X-Forwarded-Proto: https' ) );
		if ( null !== $body ) {
			curl_setopt( $ch, CURLOPT_POSTFIELDS, is_string( $body ) ? $body : json_encode( $body, JSON_PRESERVE_ZERO_FRACTION ) );
		}
		if ( $auth ) {
			curl_setopt( $ch, CURLOPT_USERPWD, $real ? self::store( 'consumer_key' ) . ':' . self::store( 'consumer_secret' ) : self::$sim_store['key'] . ':' . self::$sim_store['secret'] );
		}
		$text = (string) curl_exec( $ch );
		return array( (int) curl_getinfo( $ch, CURLINFO_RESPONSE_CODE ), json_decode( $text, true ) );
	}

	/**
	 * Drops what legitimately differs: the product ids.
	 */
	private static function comparable( array $answer ) {
		if ( is_array( $answer[1] ) && isset( $answer[1]['items'] ) && is_array( $answer[1]['items'] ) ) {
			foreach ( $answer[1]['items'] as &$item ) {
				unset( $item['product_id'] );
			}
		}
		return $answer;
	}

	public function test_the_same_requests_get_the_same_answers() {
		// The simulator's first product, made with the same stock in the real store.
		list( $status, $found ) = self::call( 'sim', 'GET', '/wp-json/wc/v3/products?sku=WNS-0001', null );
		$this->assertSame( 200, $status );
		$id      = wc_get_product_id_by_sku( 'WNS-0001' );
		$product = $id ? wc_get_product( $id ) : new WC_Product_Simple();
		$product->set_name( 'Parity' );
		$product->set_sku( 'WNS-0001' );
		$product->set_manage_stock( true );
		$product->set_stock_quantity( $found[0]['stock_quantity'] );
		$product->save();

		$key   = 'parity-' . bin2hex( random_bytes( 8 ) );
		$one   = array( 'sku' => 'WNS-0001', 'delta' => 1 );
		$cases = array(
			'no credentials'    => array( 'POST', array( 'items' => array() ), false ),
			'no items'          => array( 'POST', array( 'things' => 1 ), true ),
			'empty body'        => array( 'POST', '', true ),
			'broken JSON'       => array( 'POST', '{nope', true ),
			'items an object'   => array( 'POST', '{"items":{}}', true ),
			'items empty'       => array( 'POST', array( 'items' => array() ), true ),
			'items a string'    => array( 'POST', array( 'items' => 'x' ), true ),
			'101 items'         => array( 'POST', array( 'items' => array_fill( 0, 101, $one ) ), true ),
			'GET'               => array( 'GET', null, true ),
			'every kind of item' => array(
				'POST',
				'{"items":[' . implode(
					',',
					array(
						'{"sku":"WNS-0001","delta":1,"idempotency_key":"' . $key . '"}',
						'{"sku":"WNS-0001","delta":"2"}',
						'{"sku":"WNS-0001","delta":" 3 "}',
						'{"sku":"WNS-0001","delta":3.0}',
						'{"sku":"WNS-0001","delta":"+1"}',
						'{"sku":"WNS-0001","delta":1.5}',
						'{"sku":"WNS-0001","delta":"x"}',
						'{"sku":"WNS-0001","delta":null}',
						'{"sku":"WNS-0001","delta":true}',
						'{"sku":"WNS-0001"}',
						'{"sku":"NOPE","delta":1,"idempotency_key":5}',
						'{"sku":null,"delta":1}',
						'{"sku":["a"],"delta":1}',
						'7',
						'{"sku":"WNS-0001","delta":0}',
						'{"sku":"WNS-0001","delta":-9,"idempotency_key":"' . $key . '"}',
						'{"sku":"WNS-0001","delta":-40}',
					)
				) . ']}',
				true,
			),
		);
		foreach ( $cases as $name => list( $method, $body, $auth ) ) {
			$sim  = self::comparable( self::call( 'sim', $method, '/wp-json/wns/v1/stock/adjust', $body, $auth ) );
			$real = self::comparable( self::call( 'real', $method, '/wp-json/wns/v1/stock/adjust', $body, $auth ) );
			$this->assertSame( $sim, $real, "$name: the simulator (expected) and the real route (actual) differ" );
		}
		$sim_index  = self::call( 'sim', 'GET', '/wp-json/wns/v1', null );
		$real_index = self::call( 'real', 'GET', '/wp-json/wns/v1', null );
		$this->assertSame( array_keys( $sim_index[1]['routes'] ), array_keys( $real_index[1]['routes'] ) );
	}
}
