<?php
/**
 * The widget's words in the site's language.
 *
 * The widget (Rust compiled to WebAssembly) writes English. Every text, title and label it shows
 * goes through `window.wnsSync.t`, which `assets/wns-sync-l10n.js` builds from the table below:
 * English → this site's translation, each string through `__()` in the `wns-sync` text domain, so
 * translation tools and `languages/wns-sync.pot` find them. A key with `%s` is a pattern: the
 * widget's text matches it as a whole and each `%s` part is translated in turn (so "Blocked ·
 * Finance" needs "Blocked · %s" and "Finance"). Translations may reorder the parts with `%1$s`.
 *
 * Words that come from the sync service itself (what an exception says, its fix) stay as the
 * service writes them.
 *
 * @package wns-sync
 */

defined( 'ABSPATH' ) || exit;

/**
 * The widget's strings.
 */
class WNS_Widget_Strings {

	/**
	 * English → translated, for every string the widget shows.
	 *
	 * @return array<string,string>
	 */
	public static function all() {
		return array(
			// Who fixes an exception.
			'Finance'                                   => __( 'Finance', 'wns-sync' ),
			'Operations'                                => __( 'Operations', 'wns-sync' ),
			'E-commerce'                                => __( 'E-commerce', 'wns-sync' ),
			'Customer service'                          => __( 'Customer service', 'wns-sync' ),
			// Ages and waits.
			'just now'                                  => __( 'just now', 'wns-sync' ),
			/* translators: %s: a number of seconds */
			'%s s ago'                                  => __( '%s s ago', 'wns-sync' ),
			/* translators: %s: a number of minutes */
			'%s min ago'                                => __( '%s min ago', 'wns-sync' ),
			/* translators: %s: a number of hours */
			'%s h ago'                                  => __( '%s h ago', 'wns-sync' ),
			/* translators: %s: 1 */
			'%s day ago'                                => __( '%s day ago', 'wns-sync' ),
			/* translators: %s: a number of days */
			'%s days ago'                               => __( '%s days ago', 'wns-sync' ),
			'now'                                       => __( 'now', 'wns-sync' ),
			/* translators: %s: a number of seconds */
			'in %s s'                                   => __( 'in %s s', 'wns-sync' ),
			/* translators: %s: a number of minutes */
			'in %s min'                                 => __( 'in %s min', 'wns-sync' ),
			/* translators: %s: a number of hours */
			'in %s h'                                   => __( 'in %s h', 'wns-sync' ),
			// Order badges.
			'Waiting'                                   => __( 'Waiting', 'wns-sync' ),
			'wns has the order and posts it to NetSuite shortly.' => __( 'wns has the order and posts it to NetSuite shortly.', 'wns-sync' ),
			'Posted'                                    => __( 'Posted', 'wns-sync' ),
			/* translators: %s: the NetSuite sales order number */
			'Posted · %s'                               => __( 'Posted · %s', 'wns-sync' ),
			'NetSuite has the sales order.'             => __( 'NetSuite has the sales order.', 'wns-sync' ),
			/* translators: %s: when, e.g. "in 3 min" */
			'Retrying %s'                               => __( 'Retrying %s', 'wns-sync' ),
			'NetSuite did not answer'                   => __( 'NetSuite did not answer', 'wns-sync' ),
			/* translators: 1: what went wrong, 2: when, e.g. "in 3 min" */
			'%s. wns tries again %s; nothing to do.'    => __( '%s. wns tries again %s; nothing to do.', 'wns-sync' ),
			'Blocked'                                   => __( 'Blocked', 'wns-sync' ),
			/* translators: %s: who fixes it, e.g. "Finance" */
			'Blocked · %s'                              => __( 'Blocked · %s', 'wns-sync' ),
			'Waiting for a person; see the exceptions board.' => __( 'Waiting for a person; see the exceptions board.', 'wns-sync' ),
			'Failed'                                    => __( 'Failed', 'wns-sync' ),
			'wns gave up after its attempts.'           => __( 'wns gave up after its attempts.', 'wns-sync' ),
			/* translators: %s: why it failed */
			'%s Fix the cause, then replay the order.'  => __( '%s Fix the cause, then replay the order.', 'wns-sync' ),
			'Fulfilled'                                 => __( 'Fulfilled', 'wns-sync' ),
			/* translators: %s: the NetSuite sales order number */
			'Fulfilled · %s'                            => __( 'Fulfilled · %s', 'wns-sync' ),
			'NetSuite has started fulfilling it; later edits here are not carried over.' => __( 'NetSuite has started fulfilling it; later edits here are not carried over.', 'wns-sync' ),
			'Closed'                                    => __( 'Closed', 'wns-sync' ),
			'Cancelled or deleted here; its sales order lines are closed in NetSuite.' => __( 'Cancelled or deleted here; its sales order lines are closed in NetSuite.', 'wns-sync' ),
			'Not synced'                                => __( 'Not synced', 'wns-sync' ),
			'Its status is not one wns posts (pending, on hold…).' => __( 'Its status is not one wns posts (pending, on hold…).', 'wns-sync' ),
			'Not seen yet'                              => __( 'Not seen yet', 'wns-sync' ),
			'wns has not heard of this order yet; it looks every 30 s.' => __( 'wns has not heard of this order yet; it looks every 30 s.', 'wns-sync' ),
			'Sync unavailable'                          => __( 'Sync unavailable', 'wns-sync' ),
			'Sync service unreachable — WooCommerce is not affected; wns tries again shortly.' => __( 'Sync service unreachable — WooCommerce is not affected; wns tries again shortly.', 'wns-sync' ),
			/* translators: %s: the reason */
			'NetSuite sync is not available to you: %s' => __( 'NetSuite sync is not available to you: %s', 'wns-sync' ),
			/* translators: %s: the reason */
			'The sync service refused this: %s'         => __( 'The sync service refused this: %s', 'wns-sync' ),
			// Products.
			'No SKU'                                    => __( 'No SKU', 'wns-sync' ),
			'Give the product a SKU so wns can find its NetSuite item.' => __( 'Give the product a SKU so wns can find its NetSuite item.', 'wns-sync' ),
			'Unmapped'                                  => __( 'Unmapped', 'wns-sync' ),
			'No NetSuite item answers to this SKU: map it in NetSuite sync → SKUs.' => __( 'No NetSuite item answers to this SKU: map it in NetSuite sync → SKUs.', 'wns-sync' ),
			'wns lists the catalogue every night.'      => __( 'wns lists the catalogue every night.', 'wns-sync' ),
			/* translators: 1: units available in NetSuite, 2: units in the shop */
			'%s in NetSuite · %s here'                  => __( '%s in NetSuite · %s here', 'wns-sync' ),
			/* translators: %s: units available in NetSuite */
			'%s in NetSuite'                            => __( '%s in NetSuite', 'wns-sync' ),
			/* translators: %s: units in the shop */
			'NetSuite not read · %s here'               => __( 'NetSuite not read · %s here', 'wns-sync' ),
			'NetSuite not read'                         => __( 'NetSuite not read', 'wns-sync' ),
			'never'                                     => __( 'never', 'wns-sync' ),
			/* translators: %s: an age, e.g. "3 min ago" */
			'Fresh: read from NetSuite %s.'             => __( 'Fresh: read from NetSuite %s.', 'wns-sync' ),
			/* translators: %s: an age, e.g. "3 min ago" */
			'Late: read from NetSuite %s; the next cycle catches up.' => __( 'Late: read from NetSuite %s; the next cycle catches up.', 'wns-sync' ),
			/* translators: %s: an age, e.g. "3 h ago" */
			'Stale: read from NetSuite %s; the shop may sell what NetSuite no longer has.' => __( 'Stale: read from NetSuite %s; the shop may sell what NetSuite no longer has.', 'wns-sync' ),
			'Not read from NetSuite yet.'               => __( 'Not read from NetSuite yet.', 'wns-sync' ),
			// The order box.
			'Attempts to post this order to NetSuite'   => __( 'Attempts to post this order to NetSuite', 'wns-sync' ),
			'Replay'                                    => __( 'Replay', 'wns-sync' ),
			'Queued again; the badge updates when NetSuite answers.' => __( 'Queued again; the badge updates when NetSuite answers.', 'wns-sync' ),
			'Already waiting to be posted.'             => __( 'Already waiting to be posted.', 'wns-sync' ),
			// The SKU fixer.
			'SKUs without a NetSuite item'              => __( 'SKUs without a NetSuite item', 'wns-sync' ),
			"Orders with these SKUs wait for a NetSuite item. Search NetSuite's items by name, number or UPC, pick one, and the orders continue by themselves." => __( "Orders with these SKUs wait for a NetSuite item. Search NetSuite's items by name, number or UPC, pick one, and the orders continue by themselves.", 'wns-sync' ),
			'Every SKU on an order has its NetSuite item.' => __( 'Every SKU on an order has its NetSuite item.', 'wns-sync' ),
			/* translators: 1: a SKU, 2: e.g. "3 orders", 3: when, e.g. "2 h ago" */
			'%s · %s waiting since %s'                  => __( '%s · %s waiting since %s', 'wns-sync' ),
			/* translators: 1: a SKU, 2: e.g. "3 orders", 3: money, e.g. "USD 25.00", 4: when, e.g. "2 h ago" */
			'%s · %s (%s) waiting since %s'             => __( '%s · %s (%s) waiting since %s', 'wns-sync' ),
			'1 order'                                   => __( '1 order', 'wns-sync' ),
			/* translators: %s: a number of orders */
			'%s orders'                                 => __( '%s orders', 'wns-sync' ),
			/* translators: %s: a SKU */
			'NetSuite item for %s'                      => __( 'NetSuite item for %s', 'wns-sync' ),
			'Name, number or UPC'                       => __( 'Name, number or UPC', 'wns-sync' ),
			'No NetSuite item matches; try part of its name or its UPC.' => __( 'No NetSuite item matches; try part of its name or its UPC.', 'wns-sync' ),
			/* translators: %s: a SKU */
			'1 NetSuite item found; pick one to map %s.' => __( '1 NetSuite item found; pick one to map %s.', 'wns-sync' ),
			/* translators: 1: a number of items, 2: a SKU */
			'%s NetSuite items found; pick one to map %s.' => __( '%s NetSuite items found; pick one to map %s.', 'wns-sync' ),
			'Saving…'                                   => __( 'Saving…', 'wns-sync' ),
			/* translators: 1: a SKU, 2: a NetSuite item, 3: e.g. "2 orders continue to NetSuite" */
			'Mapped %s to NetSuite item %s: %s.'        => __( 'Mapped %s to NetSuite item %s: %s.', 'wns-sync' ),
			'no order was waiting on it'                => __( 'no order was waiting on it', 'wns-sync' ),
			'1 order continues to NetSuite'             => __( '1 order continues to NetSuite', 'wns-sync' ),
			/* translators: %s: a number of orders */
			'%s orders continue to NetSuite'            => __( '%s orders continue to NetSuite', 'wns-sync' ),
			// The exceptions board.
			'Exceptions'                                => __( 'Exceptions', 'wns-sync' ),
			'Whose exceptions'                          => __( 'Whose exceptions', 'wns-sync' ),
			/* translators: %s: how many are open */
			'All (%s)'                                  => __( 'All (%s)', 'wns-sync' ),
			/* translators: 1: who fixes them, e.g. "Finance", 2: how many are open */
			'%s (%s)'                                   => __( '%s (%s)', 'wns-sync' ),
			'State '                                    => __( 'State ', 'wns-sync' ),
			'Open'                                      => __( 'Open', 'wns-sync' ),
			'Resolved'                                  => __( 'Resolved', 'wns-sync' ),
			'Ignored'                                   => __( 'Ignored', 'wns-sync' ),
			'All'                                       => __( 'All', 'wns-sync' ),
			' Kind '                                    => __( ' Kind ', 'wns-sync' ),
			'All kinds'                                 => __( 'All kinds', 'wns-sync' ),
			' Words '                                   => __( ' Words ', 'wns-sync' ),
			'Nothing needs a person: every order and SKU is in sync.' => __( 'Nothing needs a person: every order and SKU is in sync.', 'wns-sync' ),
			'No exception matches these filters.'       => __( 'No exception matches these filters.', 'wns-sync' ),
			'Owner'                                     => __( 'Owner', 'wns-sync' ),
			'What happened'                             => __( 'What happened', 'wns-sync' ),
			'Holds back'                                => __( 'Holds back', 'wns-sync' ),
			'What to do'                                => __( 'What to do', 'wns-sync' ),
			'State'                                     => __( 'State', 'wns-sync' ),
			'Action'                                    => __( 'Action', 'wns-sync' ),
			'Resolve'                                   => __( 'Resolve', 'wns-sync' ),
			'Ignore…'                                   => __( 'Ignore…', 'wns-sync' ),
			'Reopen'                                    => __( 'Reopen', 'wns-sync' ),
			'Why is it ignored?'                        => __( 'Why is it ignored?', 'wns-sync' ),
			'Ignore'                                    => __( 'Ignore', 'wns-sync' ),
			/* translators: e.g. "2 orders" */
			'%s held back'                              => __( '%s held back', 'wns-sync' ),
			/* translators: 1: e.g. "2 orders", 2: money, e.g. "USD 25.00" */
			'%s held back (%s)'                         => __( '%s held back (%s)', 'wns-sync' ),
			/* translators: e.g. "3 SKUs" */
			'%s with stale stock'                       => __( '%s with stale stock', 'wns-sync' ),
			'1 SKU'                                     => __( '1 SKU', 'wns-sync' ),
			/* translators: %s: a number of SKUs */
			'%s SKUs'                                   => __( '%s SKUs', 'wns-sync' ),
			/* translators: %s: when, e.g. "2 h ago" */
			'open, first seen %s'                       => __( 'open, first seen %s', 'wns-sync' ),
			/* translators: 1: when, e.g. "2 h ago", 2: how many times */
			'open, first seen %s · seen %s times'       => __( 'open, first seen %s · seen %s times', 'wns-sync' ),
			/* translators: %s: how it was closed */
			'closed: %s'                                => __( 'closed: %s', 'wns-sync' ),
			/* translators: 1: how it was closed, 2: who closed it */
			'closed: %s by %s'                          => __( 'closed: %s by %s', 'wns-sync' ),
			/* translators: %s: the reason given */
			'ignored: %s'                               => __( 'ignored: %s', 'wns-sync' ),
			'no reason given'                           => __( 'no reason given', 'wns-sync' ),
			// Exception kinds, as the kind filter names them.
			'Webhook malformed'                         => __( 'Webhook malformed', 'wns-sync' ),
			'Webhook disabled'                          => __( 'Webhook disabled', 'wns-sync' ),
			'Webhook unsigned'                          => __( 'Webhook unsigned', 'wns-sync' ),
			'Webhook miss'                              => __( 'Webhook miss', 'wns-sync' ),
			'NetSuite login'                            => __( 'NetSuite login', 'wns-sync' ),
			'Unmapped SKU'                              => __( 'Unmapped SKU', 'wns-sync' ),
			'Missing SKU'                               => __( 'Missing SKU', 'wns-sync' ),
			'Item not sellable'                         => __( 'Item not sellable', 'wns-sync' ),
			'Customer rejected'                         => __( 'Customer rejected', 'wns-sync' ),
			'Tax difference'                            => __( 'Tax difference', 'wns-sync' ),
			'Changed after fulfilment'                  => __( 'Changed after fulfilment', 'wns-sync' ),
			'Sales order rejected'                      => __( 'Sales order rejected', 'wns-sync' ),
			'Stock item rejected'                       => __( 'Stock item rejected', 'wns-sync' ),
			'Stock unreadable'                          => __( 'Stock unreadable', 'wns-sync' ),
			'Stock stale'                               => __( 'Stock stale', 'wns-sync' ),
			'Stock drift'                               => __( 'Stock drift', 'wns-sync' ),
			'Report undelivered'                        => __( 'Report undelivered', 'wns-sync' ),
		);
	}

	/**
	 * What the widget's configuration carries: the whole table where this site translates any of
	 * it (the patterns are needed even where their translation is the English), nothing otherwise.
	 *
	 * @return array<string,string>
	 */
	public static function for_widget() {
		$all = self::all();
		foreach ( $all as $english => $translated ) {
			if ( $english !== $translated ) {
				return $all;
			}
		}
		return array();
	}
}
