<?php
/**
 * Where the wns widget shows inside WooCommerce: a column on the order lists (legacy `shop_order`
 * and HPOS `woocommerce_page_wc-orders`) and the product list, a meta box on order and product
 * edit screens, and the "NetSuite sync" page. PHP only prints placeholders carrying the ids
 * (`data-wns-order`, `data-wns-product`); the widget (JavaScript + WebAssembly built from
 * `wasm-widget/`) fills them from wns's API in the browser. Nothing here calls the backend, so
 * the screens render as before when wns is down.
 *
 * @package wns-sync
 */

defined( 'ABSPATH' ) || exit;

/**
 * Columns, meta boxes, the page, and the widget's assets on those screens only.
 */
class WNS_Screens {

	const PAGE = 'wns-sync';

	const COLUMN = 'wns_sync';

	/** The widget's files, as wasm-bindgen --target web names them. */
	const WIDGET_JS = 'wns_widget.js';

	const WIDGET_WASM = 'wns_widget_bg.wasm';

	/**
	 * Hooks the admin screens.
	 */
	public static function init() {
		add_action( 'admin_menu', array( __CLASS__, 'add_page' ) );
		add_filter( 'manage_edit-shop_order_columns', array( __CLASS__, 'add_column' ), 20 );
		add_action( 'manage_shop_order_posts_custom_column', array( __CLASS__, 'legacy_order_cell' ), 10, 2 );
		add_filter( 'manage_woocommerce_page_wc-orders_columns', array( __CLASS__, 'add_column' ), 20 );
		add_action( 'manage_woocommerce_page_wc-orders_custom_column', array( __CLASS__, 'hpos_order_cell' ), 10, 2 );
		add_filter( 'manage_edit-product_columns', array( __CLASS__, 'add_column' ), 20 );
		add_action( 'manage_product_posts_custom_column', array( __CLASS__, 'product_cell' ), 10, 2 );
		add_action( 'add_meta_boxes', array( __CLASS__, 'add_meta_boxes' ) );
		add_action( 'admin_enqueue_scripts', array( __CLASS__, 'enqueue' ) );
		add_action( 'admin_notices', array( __CLASS__, 'missing_widget_notice' ) );
		add_filter( 'script_loader_tag', array( __CLASS__, 'module_tag' ), 10, 2 );
	}

	/**
	 * The screens that show the widget.
	 *
	 * @return string[]
	 */
	public static function screen_ids() {
		return array( 'edit-shop_order', 'shop_order', 'woocommerce_page_wc-orders', 'edit-product', 'product', 'woocommerce_page_' . self::PAGE );
	}

	/**
	 * Whether the current admin screen is one of ours.
	 *
	 * @return bool
	 */
	private static function on_our_screen() {
		$screen = function_exists( 'get_current_screen' ) ? get_current_screen() : null;
		return $screen && in_array( $screen->id, self::screen_ids(), true );
	}

	/**
	 * Where the built widget is: [folder, URL]; filterable for other builds.
	 *
	 * @return array{0: string, 1: string}
	 */
	public static function widget_location() {
		$location = array( WNS_SYNC_DIR . '/assets/pkg', plugins_url( 'assets/pkg', WNS_SYNC_FILE ) );
		/**
		 * Filters where the built widget lives.
		 *
		 * @param array $location [folder, URL], holding wns_widget.js and wns_widget_bg.wasm.
		 */
		$location = apply_filters( 'wns_sync_widget_location', $location );
		return array( untrailingslashit( (string) $location[0] ), untrailingslashit( (string) $location[1] ) );
	}

	/**
	 * Whether the widget has been built.
	 *
	 * @return bool
	 */
	public static function widget_built() {
		list( $dir ) = self::widget_location();
		return is_readable( $dir . '/' . self::WIDGET_JS ) && is_readable( $dir . '/' . self::WIDGET_WASM );
	}

	/**
	 * The "NetSuite sync" page: the exceptions board and the SKU fixer.
	 */
	public static function add_page() {
		add_submenu_page(
			'woocommerce',
			__( 'NetSuite sync', 'wns-sync' ),
			__( 'NetSuite sync', 'wns-sync' ),
			'edit_shop_orders',
			self::PAGE,
			array( __CLASS__, 'render_page' )
		);
	}

	/**
	 * The page's placeholder.
	 */
	public static function render_page() {
		if ( ! current_user_can( 'edit_shop_orders' ) ) {
			wp_die( esc_html__( 'You may not see the NetSuite sync.', 'wns-sync' ), 403 );
		}
		echo '<div class="wrap"><h1>' . esc_html__( 'NetSuite sync', 'wns-sync' ) . '</h1>';
		echo '<div id="wns-sync-app" class="wns-sync-app" data-wns-view="exceptions"></div></div>';
	}

	/**
	 * Adds the column after the status (or at the end).
	 *
	 * @param array $columns The list's columns.
	 * @return array
	 */
	public static function add_column( $columns ) {
		$out = array();
		foreach ( $columns as $key => $label ) {
			$out[ $key ] = $label;
			if ( in_array( $key, array( 'order_status', 'sku' ), true ) ) {
				$out[ self::COLUMN ] = __( 'NetSuite', 'wns-sync' );
			}
		}
		if ( ! isset( $out[ self::COLUMN ] ) ) {
			$out[ self::COLUMN ] = __( 'NetSuite', 'wns-sync' );
		}
		return $out;
	}

	/**
	 * A cell of the legacy orders list.
	 *
	 * @param string $column  The column.
	 * @param int    $post_id The order's id.
	 */
	public static function legacy_order_cell( $column, $post_id ) {
		if ( self::COLUMN === $column ) {
			printf( '<span class="wns-sync-status" data-wns-order="%d"></span>', absint( $post_id ) );
		}
	}

	/**
	 * A cell of the HPOS orders list.
	 *
	 * @param string   $column The column.
	 * @param WC_Order $order  The order.
	 */
	public static function hpos_order_cell( $column, $order ) {
		if ( self::COLUMN === $column && $order instanceof WC_Order ) {
			printf( '<span class="wns-sync-status" data-wns-order="%d"></span>', absint( $order->get_id() ) );
		}
	}

	/**
	 * A cell of the products list.
	 *
	 * @param string $column  The column.
	 * @param int    $post_id The product's id.
	 */
	public static function product_cell( $column, $post_id ) {
		if ( self::COLUMN === $column ) {
			printf( '<span class="wns-sync-status" data-wns-product="%d"></span>', absint( $post_id ) );
		}
	}

	/**
	 * The meta boxes on order (both storages) and product edit screens.
	 */
	public static function add_meta_boxes() {
		$order_screen = function_exists( 'wc_get_page_screen_id' ) ? wc_get_page_screen_id( 'shop-order' ) : 'shop_order';
		foreach ( array_unique( array( 'shop_order', $order_screen ) ) as $screen ) {
			add_meta_box( 'wns-sync-order', __( 'NetSuite', 'wns-sync' ), array( __CLASS__, 'order_box' ), $screen, 'side', 'default' );
		}
		add_meta_box( 'wns-sync-product', __( 'NetSuite', 'wns-sync' ), array( __CLASS__, 'product_box' ), 'product', 'side', 'default' );
	}

	/**
	 * The order meta box: a WP_Post (legacy) or a WC_Order (HPOS).
	 *
	 * @param WP_Post|WC_Order $object The order.
	 */
	public static function order_box( $object ) {
		$id = $object instanceof WC_Order ? $object->get_id() : ( $object instanceof WP_Post ? $object->ID : 0 );
		printf( '<div class="wns-sync-box" data-wns-order="%d"></div>', absint( $id ) );
	}

	/**
	 * The product meta box.
	 *
	 * @param WP_Post $post The product.
	 */
	public static function product_box( $post ) {
		printf( '<div class="wns-sync-box" data-wns-product="%d"></div>', absint( $post->ID ) );
	}

	/**
	 * Loads the widget on our screens only, with what it needs to get a token.
	 */
	public static function enqueue() {
		if ( ! self::on_our_screen() || ! self::widget_built() ) {
			return;
		}
		list( , $url ) = self::widget_location();
		wp_enqueue_script( 'wns-sync-widget', $url . '/' . self::WIDGET_JS, array(), WNS_SYNC_VERSION, true );
		wp_enqueue_style( 'wns-sync-widget', plugins_url( 'assets/wns-sync.css', WNS_SYNC_FILE ), array(), WNS_SYNC_VERSION );
		$config = array(
			'backendUrl' => WNS_Settings::backend_url(),
			'tokenUrl'   => rest_url( 'wns/v1/token' ),
			'nonce'      => wp_create_nonce( 'wp_rest' ),
			'wasmUrl'    => $url . '/' . self::WIDGET_WASM,
		);
		$l10n = WNS_Widget_Strings::for_widget();
		if ( $l10n ) {
			$config['l10n'] = $l10n;
		}
		// The translator first: the widget's module runs after every classic script.
		wp_enqueue_script( 'wns-sync-l10n', plugins_url( 'assets/wns-sync-l10n.js', WNS_SYNC_FILE ), array(), WNS_SYNC_VERSION, true );
		wp_add_inline_script( 'wns-sync-l10n', 'window.wnsSync = ' . wp_json_encode( $config ) . ';', 'before' );
	}

	/**
	 * wasm-bindgen's output is an ES module.
	 *
	 * @param string $tag    The script tag.
	 * @param string $handle The script's handle.
	 * @return string
	 */
	public static function module_tag( $tag, $handle ) {
		if ( 'wns-sync-widget' !== $handle ) {
			return $tag;
		}
		return str_replace( ' src=', ' type="module" src=', $tag );
	}

	/**
	 * On our screens, says when the widget has not been built (instead of failing).
	 */
	public static function missing_widget_notice() {
		if ( ! self::on_our_screen() || self::widget_built() || ! current_user_can( 'manage_woocommerce' ) ) {
			return;
		}
		printf(
			'<div class="notice notice-warning" id="wns-sync-no-widget"><p>%s</p></div>',
			esc_html__( 'wns Sync: the NetSuite widget is not installed in this copy of the plugin (assets/pkg/ is empty), so its columns and boxes stay blank. Install the release zip, which carries it.', 'wns-sync' )
		);
	}
}
