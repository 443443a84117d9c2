/**
 * The wns widget's words in the site's language: window.wnsSync.t, built from the table the plugin
 * passes as window.wnsSync.l10n (English → translated; includes/class-wns-widget-strings.php).
 * A key with %s is a pattern: a text matching it as a whole gets its translation, each %s part
 * (or %1$s, %2$s… where a translation reorders them) translated in turn. The most specific pattern
 * (the longest key) wins. Without a table the widget's loader makes t the identity.
 */
( function () {
	var config = window.wnsSync;
	if ( ! config || ! config.l10n || ! Object.keys( config.l10n ).length ) {
		return;
	}
	var table = config.l10n;
	var patterns = Object.keys( table )
		.filter( function ( key ) {
			return key.indexOf( '%s' ) >= 0;
		} )
		.sort( function ( a, b ) {
			return b.length - a.length;
		} )
		.map( function ( key ) {
			var parts = key.split( '%s' ).map( function ( part ) {
				return part.replace( /[.*+?^${}()|[\]\\]/g, '\\$&' );
			} );
			return [ new RegExp( '^' + parts.join( '(.+?)' ) + '$' ), table[ key ] ];
		} );
	function t( text ) {
		if ( Object.prototype.hasOwnProperty.call( table, text ) ) {
			return table[ text ];
		}
		for ( var i = 0; i < patterns.length; i++ ) {
			var found = patterns[ i ][ 0 ].exec( text );
			if ( found ) {
				var next = 0;
				return patterns[ i ][ 1 ].replace( /%(\d)\$s|%s/g, function ( all, position ) {
					var part = found[ position ? Number( position ) : ++next ];
					return undefined === part ? all : t( part );
				} );
			}
		}
		return text;
	}
	config.t = t;
}() );
