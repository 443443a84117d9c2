<?php
/**
 * Settings: the wns backend's URL and the secret shared with it, under WooCommerce → wns Sync.
 *
 * @package wns-sync
 */

defined( 'ABSPATH' ) || exit;

/**
 * The settings page, its option and the "test connection" action.
 */
class WNS_Settings {

	const PAGE = 'wns-sync-settings';

	const GROUP = 'wns_sync';

	/** The shortest secret wns accepts as `api.jwt_secret`. */
	const MIN_SECRET = 32;

	/**
	 * Hooks the admin side.
	 */
	public static function init() {
		add_action( 'admin_menu', array( __CLASS__, 'add_page' ) );
		add_action( 'admin_init', array( __CLASS__, 'register' ) );
		add_action( 'admin_post_wns_sync_test_connection', array( __CLASS__, 'test_connection' ) );
		// options.php asks for manage_options by default; shop managers run WooCommerce's settings.
		add_filter( 'option_page_capability_' . self::GROUP, array( __CLASS__, 'capability' ) );
	}

	/**
	 * Who may see and change the settings.
	 *
	 * @return string
	 */
	public static function capability() {
		return 'manage_woocommerce';
	}

	/**
	 * The saved settings with defaults.
	 *
	 * @return array{backend_url: string, shared_secret: string}
	 */
	public static function get() {
		$saved = get_option( WNS_SYNC_OPTION, array() );
		$saved = is_array( $saved ) ? $saved : array();
		return array(
			'backend_url'   => isset( $saved['backend_url'] ) ? (string) $saved['backend_url'] : '',
			'shared_secret' => isset( $saved['shared_secret'] ) ? (string) $saved['shared_secret'] : '',
		);
	}

	/**
	 * Whether wp-config.php sets the secret (the settings field is then hidden).
	 *
	 * @return bool
	 */
	public static function secret_from_constant() {
		return defined( 'WNS_SHARED_SECRET' ) && '' !== (string) WNS_SHARED_SECRET;
	}

	/**
	 * The secret tokens are signed with: the constant when defined, else the saved one.
	 *
	 * @return string Empty when not configured.
	 */
	public static function shared_secret() {
		if ( self::secret_from_constant() ) {
			return (string) WNS_SHARED_SECRET;
		}
		return self::get()['shared_secret'];
	}

	/**
	 * The backend's URL without a trailing slash; empty when not configured.
	 *
	 * @return string
	 */
	public static function backend_url() {
		return untrailingslashit( self::get()['backend_url'] );
	}

	/**
	 * Adds the page under WooCommerce.
	 */
	public static function add_page() {
		add_submenu_page(
			'woocommerce',
			__( 'wns Sync settings', 'wns-sync' ),
			__( 'wns Sync', 'wns-sync' ),
			self::capability(),
			self::PAGE,
			array( __CLASS__, 'render' )
		);
	}

	/**
	 * Registers the option and its fields.
	 */
	public static function register() {
		register_setting(
			self::GROUP,
			WNS_SYNC_OPTION,
			array(
				'type'              => 'array',
				'sanitize_callback' => array( __CLASS__, 'sanitize' ),
				'default'           => array(
					'backend_url'   => '',
					'shared_secret' => '',
				),
				'show_in_rest'      => false,
			)
		);
		add_settings_section( 'wns_sync_backend', __( 'Backend', 'wns-sync' ), '__return_false', self::PAGE );
		add_settings_field(
			'wns_sync_backend_url',
			__( 'Backend URL', 'wns-sync' ),
			array( __CLASS__, 'render_url_field' ),
			self::PAGE,
			'wns_sync_backend',
			array( 'label_for' => 'wns_sync_backend_url' )
		);
		if ( ! self::secret_from_constant() ) {
			add_settings_field(
				'wns_sync_shared_secret',
				__( 'Shared secret', 'wns-sync' ),
				array( __CLASS__, 'render_secret_field' ),
				self::PAGE,
				'wns_sync_backend',
				array( 'label_for' => 'wns_sync_shared_secret' )
			);
		}
	}

	/**
	 * Cleans what the form sent; a bad value keeps the old one and says why.
	 *
	 * @param mixed $input The submitted option.
	 * @return array
	 */
	public static function sanitize( $input ) {
		$old   = self::get();
		$input = is_array( $input ) ? $input : array();
		$clean = $old;

		$url = isset( $input['backend_url'] ) ? trim( sanitize_text_field( wp_unslash( $input['backend_url'] ) ) ) : '';
		if ( '' === $url ) {
			$clean['backend_url'] = '';
		} elseif ( preg_match( '#^https?://#i', $url ) && false !== filter_var( $url, FILTER_VALIDATE_URL ) ) {
			$clean['backend_url'] = untrailingslashit( esc_url_raw( $url, array( 'http', 'https' ) ) );
		} else {
			add_settings_error( WNS_SYNC_OPTION, 'wns_sync_bad_url', __( 'The backend URL must be an http:// or https:// address, such as https://wns.example.com.', 'wns-sync' ) );
		}

		if ( ! self::secret_from_constant() && isset( $input['shared_secret'] ) ) {
			$secret = trim( sanitize_text_field( wp_unslash( $input['shared_secret'] ) ) );
			if ( '' === $secret ) {
				// The field is shown empty: an empty submission keeps the saved secret.
				$clean['shared_secret'] = $old['shared_secret'];
			} elseif ( strlen( $secret ) < self::MIN_SECRET ) {
				add_settings_error(
					WNS_SYNC_OPTION,
					'wns_sync_short_secret',
					/* translators: %d: the shortest length accepted. */
					sprintf( __( 'The shared secret must have at least %d characters, the same value as api.jwt_secret in wns.toml. The old secret is kept.', 'wns-sync' ), self::MIN_SECRET )
				);
			} else {
				$clean['shared_secret'] = $secret;
			}
		}
		return $clean;
	}

	/**
	 * The URL field.
	 */
	public static function render_url_field() {
		printf(
			'<input type="url" class="regular-text" id="wns_sync_backend_url" name="%1$s[backend_url]" value="%2$s" placeholder="https://wns.example.com" /><p class="description">%3$s</p>',
			esc_attr( WNS_SYNC_OPTION ),
			esc_attr( self::get()['backend_url'] ),
			esc_html__( 'Where wns runs. Nothing is sent anywhere until this is set.', 'wns-sync' )
		);
	}

	/**
	 * The secret field, never showing the saved value.
	 */
	public static function render_secret_field() {
		$saved = '' !== self::get()['shared_secret'];
		printf(
			'<input type="password" class="regular-text" id="wns_sync_shared_secret" name="%1$s[shared_secret]" value="" autocomplete="new-password" placeholder="%2$s" /><p class="description">%3$s</p>',
			esc_attr( WNS_SYNC_OPTION ),
			esc_attr( $saved ? __( '(saved; leave empty to keep)', 'wns-sync' ) : '' ),
			esc_html__( 'The same value as api.jwt_secret in wns.toml, 32 characters or more. Or define WNS_SHARED_SECRET in wp-config.php, which hides this field.', 'wns-sync' )
		);
	}

	/**
	 * The page.
	 */
	public static function render() {
		if ( ! current_user_can( self::capability() ) ) {
			wp_die( esc_html__( 'You may not change the wns Sync settings.', 'wns-sync' ), 403 );
		}
		$result = get_transient( 'wns_sync_test_' . get_current_user_id() );
		if ( is_array( $result ) ) {
			delete_transient( 'wns_sync_test_' . get_current_user_id() );
		}
		echo '<div class="wrap"><h1>' . esc_html__( 'wns Sync settings', 'wns-sync' ) . '</h1>';
		settings_errors( WNS_SYNC_OPTION );
		if ( is_array( $result ) ) {
			printf(
				'<div class="notice notice-%1$s is-dismissible" id="wns-sync-test-result"><p>%2$s</p></div>',
				esc_attr( $result['ok'] ? 'success' : 'error' ),
				esc_html( $result['message'] )
			);
		}
		if ( self::secret_from_constant() ) {
			echo '<p id="wns-sync-secret-constant">' . esc_html__( 'The shared secret is set by WNS_SHARED_SECRET in wp-config.php.', 'wns-sync' ) . '</p>';
		}
		echo '<form method="post" action="' . esc_url( admin_url( 'options.php' ) ) . '">';
		settings_fields( self::GROUP );
		do_settings_sections( self::PAGE );
		submit_button();
		echo '</form>';
		echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
		echo '<input type="hidden" name="action" value="wns_sync_test_connection" />';
		wp_nonce_field( 'wns_sync_test_connection' );
		submit_button( __( 'Test connection', 'wns-sync' ), 'secondary', 'wns_sync_test', false, '' === self::backend_url() ? array( 'disabled' => 'disabled' ) : array() );
		echo '</form></div>';
	}

	/**
	 * Asks the backend's /livez and keeps the verdict for the next page view.
	 */
	public static function test_connection() {
		if ( ! current_user_can( self::capability() ) ) {
			wp_die( esc_html__( 'You may not test the wns connection.', 'wns-sync' ), 403 );
		}
		check_admin_referer( 'wns_sync_test_connection' );
		set_transient( 'wns_sync_test_' . get_current_user_id(), self::check_backend(), 5 * MINUTE_IN_SECONDS );
		wp_safe_redirect( admin_url( 'admin.php?page=' . self::PAGE ) );
		exit;
	}

	/**
	 * Calls GET {backend}/livez.
	 *
	 * @return array{ok: bool, message: string}
	 */
	public static function check_backend() {
		$base = self::backend_url();
		if ( '' === $base ) {
			return array(
				'ok'      => false,
				'message' => __( 'Set the backend URL first.', 'wns-sync' ),
			);
		}
		$response = wp_remote_get( $base . '/livez', array( 'timeout' => 5 ) );
		if ( is_wp_error( $response ) ) {
			return array(
				'ok'      => false,
				/* translators: 1: URL, 2: error message. */
				'message' => sprintf( __( 'wns at %1$s cannot be reached: %2$s. Check the URL and that wns is running.', 'wns-sync' ), $base, $response->get_error_message() ),
			);
		}
		$code = (int) wp_remote_retrieve_response_code( $response );
		if ( 200 !== $code ) {
			return array(
				'ok'      => false,
				/* translators: 1: URL, 2: HTTP status. */
				'message' => sprintf( __( 'wns at %1$s answered HTTP %2$d to /livez; is this the wns backend?', 'wns-sync' ), $base, $code ),
			);
		}
		return array(
			'ok'      => true,
			/* translators: %s: URL. */
			'message' => sprintf( __( 'wns at %s is running.', 'wns-sync' ), $base ),
		);
	}
}
