<?php
/**
 * Router for `php -S`: existing files (and folders with an index.php) are served as they are,
 * everything else goes to WordPress's index.php, so pretty permalinks and /wp-json/ work.
 */
$wns_path = (string) parse_url( $_SERVER['REQUEST_URI'], PHP_URL_PATH );
$wns_file = __DIR__ . $wns_path;
if ( '/' !== $wns_path && ( is_file( $wns_file ) || is_file( rtrim( $wns_file, '/' ) . '/index.php' ) ) ) {
	return false;
}
$_SERVER['SCRIPT_NAME']     = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = __DIR__ . '/index.php';
$_SERVER['PHP_SELF']        = '/index.php';
require __DIR__ . '/index.php';
