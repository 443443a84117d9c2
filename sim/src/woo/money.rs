//! Money as WooCommerce prints it: exact decimals inside, and on the wire either strings with two
//! decimals, trimmed strings (unrounded line taxes, coupon discounts), PHP floats (`price`,
//! `rate_percent`) or integer cents (WooCommerce Payments).

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Serialize, Serializer};

/// PHP's `round()`: half away from zero.
pub fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// `"12.50"`, `"-0.82"`, never `"-0.00"`.
pub fn fmt2(d: Decimal) -> String {
    let r = round2(d);
    if r.is_zero() { "0.00".to_owned() } else { format!("{r:.2}") }
}

/// `wc_format_decimal` without a precision: trailing zeros dropped (`"1.630525"`, `"-7.5"`, `"0"`).
pub fn trim(d: Decimal) -> String {
    if d.is_zero() { "0".to_owned() } else { d.normalize().to_string() }
}

/// Integer minor units, as WooCommerce Payments reports amounts.
pub fn to_cents(d: Decimal) -> i64 {
    let c = (round2(d) * Decimal::ONE_HUNDRED).trunc();
    i64::try_from(c).unwrap_or(i64::MAX)
}

/// A number the way PHP's `json_encode` writes a float that may be whole: `18`, `11.245`, `7.25`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhpNum(pub Decimal);

impl Serialize for PhpNum {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0.normalize();
        if d.fract().is_zero()
            && let Ok(i) = i64::try_from(d)
        {
            return s.serialize_i64(i);
        }
        let f: f64 = d.to_string().parse().unwrap_or(0.0);
        s.serialize_f64(f)
    }
}

/// Currency symbol as `currency_symbol` shows it.
pub fn currency_symbol(code: &str) -> &'static str {
    match code {
        "GBP" => "£",
        "EUR" => "€",
        "JPY" => "¥",
        "INR" => "₹",
        _ => "$",
    }
}

/// Currency symbol as `price_html` shows it (an HTML entity).
pub fn currency_entity(code: &str) -> &'static str {
    match code {
        "GBP" => "&pound;",
        "EUR" => "&euro;",
        "JPY" => "&yen;",
        "INR" => "&#8377;",
        _ => "&#36;",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn formats_match_woocommerce() {
        assert_eq!(fmt2(d("1.305")), "1.31");
        assert_eq!(fmt2(d("-0.001")), "0.00");
        assert_eq!(fmt2(d("76.2")), "76.20");
        assert_eq!(trim(d("1.6305250")), "1.630525");
        assert_eq!(trim(d("-7.50")), "-7.5");
        assert_eq!(trim(d("0.00")), "0");
        assert_eq!(to_cents(d("24.85")), 2485);
        assert_eq!(serde_json::to_string(&PhpNum(d("18.00"))).unwrap(), "18");
        assert_eq!(serde_json::to_string(&PhpNum(d("11.245"))).unwrap(), "11.245");
        assert_eq!(serde_json::to_string(&PhpNum(d("21.60"))).unwrap(), "21.6");
    }
}
