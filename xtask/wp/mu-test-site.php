<?php
/**
 * Plugin Name: wns test site
 * Description: Only for the throwaway store of `cargo xtask wp` / `cargo xtask test`: lets webhooks reach
 * receivers on loopback addresses and any port, swallows mail, trusts X-Forwarded-Proto: https like a
 * reverse proxy would, and keeps the site off the internet.
 */

if ( ! defined( 'WP_HTTP_BLOCK_EXTERNAL' ) ) {
	define( 'WP_HTTP_BLOCK_EXTERNAL', true );
}

// WooCommerce accepts Basic auth and query keys only when is_ssl(); a proxy terminating TLS says so.
if ( isset( $_SERVER['HTTP_X_FORWARDED_PROTO'] ) && 'https' === $_SERVER['HTTP_X_FORWARDED_PROTO'] ) {
	$_SERVER['HTTPS'] = 'on';
}

// Webhook deliveries go through wp_safe_remote_request(): allow loopback hosts and their ports.
add_filter(
	'http_request_host_is_external',
	static function ( $external, $host ) {
		return $external || in_array( $host, array( '127.0.0.1', 'localhost', '::1' ), true );
	},
	10,
	2
);
add_filter(
	'http_allowed_safe_ports',
	static function ( $ports, $host, $url ) {
		$port = wp_parse_url( $url, PHP_URL_PORT );
		if ( $port ) {
			$ports[] = (int) $port;
		}
		return $ports;
	},
	10,
	3
);

// No mail transport here.
add_filter( 'pre_wp_mail', '__return_true' );
