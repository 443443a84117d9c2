<?php
/**
 * Builds the throwaway store, one phase per process (run from the site folder by xtask/src/wp.rs):
 *   php setup.php core     installs WordPress (admin user, pretty permalinks)
 *   php setup.php plugins  activates WooCommerce (and installs it) and wns-sync
 *   php setup.php seed [hpos]  HPOS on when asked, products, a customer, REST keys; writes store.json
 * Every phase prints `key=value` lines for xtask and exits non-zero with a message when it fails.
 */

if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
$wns_phase = $argv[1] ?? '';
$wns_hpos  = in_array( 'hpos', $argv, true );
$_SERVER['HTTP_HOST']   = parse_url( getenv( 'WNS_WP_URL' ) ?: 'http://127.0.0.1', PHP_URL_HOST );
$_SERVER['REQUEST_URI'] = '/';
if ( 'core' === $wns_phase ) {
	define( 'WP_INSTALLING', true );
}
require __DIR__ . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

function wns_fail( $message ) {
	fwrite( STDERR, $message . "\n" );
	exit( 1 );
}

function wns_check( $result, $what ) {
	if ( is_wp_error( $result ) ) {
		wns_fail( $what . ': ' . $result->get_error_message() );
	}
	return $result;
}

switch ( $wns_phase ) {
	case 'core':
		$password = wp_generate_password( 20, false );
		$result   = wp_install( 'wns test store', 'admin', 'admin@example.test', false, '', $password );
		if ( empty( $result['user_id'] ) ) {
			wns_fail( 'wp_install() made no administrator' );
		}
		update_option( 'permalink_structure', '/%postname%/' );
		update_option( 'timezone_string', 'UTC' );
		echo "admin_user=admin\nadmin_password={$password}\n";
		break;

	case 'plugins':
		wns_check( activate_plugin( 'woocommerce/woocommerce.php' ), 'activating WooCommerce' );
		WC_Install::install();
		// Else the first admin page within 30 s redirects to WooCommerce's setup wizard.
		delete_transient( '_wc_activation_redirect' );
		update_option( 'woocommerce_onboarding_profile', array( 'skipped' => true ) );
		update_option( 'woocommerce_task_list_hidden', 'yes' );
		update_option( 'woocommerce_show_marketplace_suggestions', 'no' );
		update_option( 'woocommerce_allow_tracking', 'no' );
		update_option( 'woocommerce_currency', 'USD' );
		update_option( 'woocommerce_manage_stock', 'yes' );
		update_option( 'woocommerce_default_country', 'US:CA' );
		wns_check( activate_plugin( 'wns-sync/wns-sync.php' ), 'activating wns-sync' );
		echo 'woocommerce=' . WC()->version . "\n";
		break;

	case 'seed':
		if ( $wns_hpos ) {
			update_option( 'woocommerce_feature_custom_order_tables_enabled', 'yes' );
			$sync = wc_get_container()->get( Automattic\WooCommerce\Internal\DataStores\Orders\DataSynchronizer::class );
			$sync->create_database_tables();
			while ( $batch = $sync->get_next_batch_to_process( 100 ) ) {
				$sync->process_batch( $batch );
			}
			update_option( 'woocommerce_custom_orders_table_enabled', 'yes' );
			if ( ! Automattic\WooCommerce\Utilities\OrderUtil::custom_orders_table_usage_is_enabled() ) {
				wns_fail( 'HPOS was asked for but WooCommerce still stores orders as posts' );
			}
		}

		// Like the recorded store the WooCommerce simulator copies: taxes on, calculated on the
		// shipping address, CA 7.25 % and GB 20 % (both on shipping), and two coupons.
		update_option( 'woocommerce_calc_taxes', 'yes' );
		foreach ( array(
			array( 'US', 'CA', '7.2500', 'CA State Tax' ),
			array( 'GB', '', '20.0000', 'VAT' ),
		) as list( $country, $state, $rate, $name ) ) {
			WC_Tax::_insert_tax_rate(
				array(
					'tax_rate_country'  => $country,
					'tax_rate_state'    => $state,
					'tax_rate'          => $rate,
					'tax_rate_name'     => $name,
					'tax_rate_priority' => 1,
					'tax_rate_compound' => 0,
					'tax_rate_shipping' => 1,
					'tax_rate_order'    => 0,
					'tax_rate_class'    => '',
				)
			);
		}
		foreach ( array( array( 'tenoff', 'percent', '10' ), array( 'fiveoff', 'fixed_cart', '5' ) ) as list( $code, $type, $amount ) ) {
			$coupon = new WC_Coupon();
			$coupon->set_code( $code );
			$coupon->set_discount_type( $type );
			$coupon->set_amount( $amount );
			$coupon->save();
		}

		$products = array();
		foreach ( array(
			array( 'WNS-MUG', 'wns Mug', '12.00', 50, true ),
			array( 'WNS-POSTER', 'wns Poster', '8.50', 20, true ),
			array( 'WNS-GIFT', 'wns Gift Card', '25.00', null, false ),
		) as list( $sku, $name, $price, $stock, $managed ) ) {
			$p = new WC_Product_Simple();
			$p->set_name( $name );
			$p->set_sku( $sku );
			$p->set_regular_price( $price );
			$p->set_manage_stock( $managed );
			if ( $managed ) {
				$p->set_stock_quantity( $stock );
			}
			$p->set_status( 'publish' );
			$products[ $sku ] = $p->save();
		}

		$attribute = new WC_Product_Attribute();
		$attribute->set_name( 'Size' );
		$attribute->set_options( array( 'S', 'M', 'L' ) );
		$attribute->set_visible( true );
		$attribute->set_variation( true );
		$tee = new WC_Product_Variable();
		$tee->set_name( 'wns T-Shirt' );
		$tee->set_sku( 'WNS-TEE' );
		$tee->set_attributes( array( $attribute ) );
		$tee->set_status( 'publish' );
		$products['WNS-TEE'] = $tee->save();
		foreach ( array( 'S', 'M', 'L' ) as $size ) {
			$v = new WC_Product_Variation();
			$v->set_parent_id( $products['WNS-TEE'] );
			$v->set_attributes( array( 'size' => $size ) );
			$v->set_sku( 'WNS-TEE-' . $size );
			$v->set_regular_price( '19.00' );
			$v->set_manage_stock( true );
			$v->set_stock_quantity( 10 );
			$products[ 'WNS-TEE-' . $size ] = $v->save();
		}
		WC_Product_Variable::sync( $products['WNS-TEE'] );

		$customer_password = wp_generate_password( 20, false );
		$customer          = new WC_Customer();
		$customer->set_username( 'customer' );
		$customer->set_email( 'customer@example.test' );
		$customer->set_password( $customer_password );
		$customer->set_first_name( 'Casey' );
		$customer->set_last_name( 'Customer' );
		$customer->set_billing_first_name( 'Casey' );
		$customer->set_billing_last_name( 'Customer' );
		$customer->set_billing_address_1( '1 Test Street' );
		$customer->set_billing_city( 'San Francisco' );
		$customer->set_billing_state( 'CA' );
		$customer->set_billing_postcode( '94107' );
		$customer->set_billing_country( 'US' );
		$customer->set_billing_email( 'customer@example.test' );
		$customer_id = $customer->save();

		// REST keys the way WooCommerce's own screen stores them: the key hashed, the secret plain.
		global $wpdb;
		$admin = get_user_by( 'login', 'admin' );
		$ck    = 'ck_' . wc_rand_hash();
		$cs    = 'cs_' . wc_rand_hash();
		$ok    = $wpdb->insert(
			$wpdb->prefix . 'woocommerce_api_keys',
			array(
				'user_id'         => $admin->ID,
				'description'     => 'wns tests',
				'permissions'     => 'read_write',
				'consumer_key'    => wc_api_hash( $ck ),
				'consumer_secret' => $cs,
				'truncated_key'   => substr( $ck, -7 ),
			)
		);
		if ( ! $ok ) {
			wns_fail( 'storing the REST keys failed: ' . $wpdb->last_error );
		}

		$info = array(
			'url'               => home_url(),
			'admin_url'         => admin_url(),
			'path'              => ABSPATH,
			'hpos'              => $wns_hpos,
			'admin_user'        => 'admin',
			'admin_password'    => getenv( 'WNS_WP_ADMIN_PASSWORD' ) ?: '',
			'customer_user'     => 'customer',
			'customer_password' => $customer_password,
			'customer_id'       => $customer_id,
			'consumer_key'      => $ck,
			'consumer_secret'   => $cs,
			'products'          => $products,
		);
		file_put_contents( ABSPATH . 'store.json', wp_json_encode( $info, JSON_PRETTY_PRINT ) );
		echo "consumer_key={$ck}\nconsumer_secret={$cs}\ncustomer_password={$customer_password}\n";
		echo 'hpos=' . ( $wns_hpos ? 'on' : 'off' ) . "\n";
		break;

	default:
		wns_fail( "usage: php setup.php core|plugins|seed [hpos]" );
}
