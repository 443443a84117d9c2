//! Money and text at the edge. WooCommerce's REST API writes amounts as strings with the store's
//! decimals (`"12.50"`), WooCommerce Payments as integers in minor units (`2485` = 24.85); both
//! become `Decimal` here, never floats. WooCommerce keeps product and line names HTML-escaped
//! (`Tee – Blue &amp; Red`); names are decoded once, here.

use rust_decimal::Decimal;

/// `"12.50"` → 12.50. An empty string (WooCommerce's "no value", e.g. a fee's `amount`) is zero.
pub fn parse_amount(s: &str) -> Result<Decimal, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(Decimal::ZERO);
    }
    t.parse::<Decimal>().map_err(|e| format!("{s:?} is not an amount: {e}"))
}

/// WooCommerce Payments' integer minor units → a decimal amount (two-decimal currencies).
pub fn from_minor_units(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// Decodes the HTML entities WordPress writes into names: the five XML ones, numeric ones
/// (`&#8211;`, `&#x2013;`) and the few named ones `wptexturize` produces. Unknown entities stay.
pub fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let decoded = tail.find(';').filter(|&end| end <= 10).and_then(|end| {
            let name = &tail[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                "ndash" => Some('–'),
                "mdash" => Some('—'),
                "hellip" => Some('…'),
                "lsquo" => Some('‘'),
                "rsquo" => Some('’'),
                "ldquo" => Some('“'),
                "rdquo" => Some('”'),
                _ => name.strip_prefix('#').and_then(|n| {
                    let code = match n.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => n.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_decimals() {
        assert_eq!(parse_amount("74.64").unwrap(), Decimal::new(7464, 2));
        assert_eq!(parse_amount("").unwrap(), Decimal::ZERO);
        assert_eq!(parse_amount("1.630525").unwrap(), Decimal::new(1_630_525, 6));
        assert!(parse_amount("12,50").is_err());
        assert_eq!(from_minor_units(2485), Decimal::new(2485, 2));
        assert_eq!(from_minor_units(-400), Decimal::new(-400, 2));
    }

    #[test]
    fn names_lose_their_html_entities() {
        assert_eq!(decode_entities("Tee – Blue &amp; Red"), "Tee – Blue & Red");
        assert_eq!(decode_entities("Caf&#233; &#x2013; &quot;Cr&egrave;me&quot;"), "Café – \"Cr&egrave;me\"");
        assert_eq!(decode_entities("AT&T & co"), "AT&T & co");
        assert_eq!(decode_entities("5 &lt; 6&#8230;"), "5 < 6…");
    }
}
