//! One value in a SuiteQL row and the rules for comparing and printing it. NetSuite answers
//! every value as a string: numbers without trailing zeros, booleans as `T`/`F`, and dates in
//! the account's date format.
//!
//! [INFERRED] Date and date-time columns print as `M/D/YYYY` (the US default date preference,
//! as in suiteql-next-page.json); date-times lose their time unless the query asks for it with
//! `TO_CHAR(col, 'YYYY-MM-DD HH24:MI:SS')`, which is how integrators read timestamps.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Num(Decimal),
    Date(NaiveDate),
    Time(DateTime<Utc>),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub fn opt_text(s: Option<&str>) -> Cell {
        s.map_or(Cell::Null, |s| Cell::Text(s.to_string()))
    }

    pub fn id(n: u64) -> Cell {
        Cell::Num(Decimal::from(n))
    }

    pub fn flag(b: bool) -> Cell {
        Cell::text(if b { "T" } else { "F" })
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Cell::Null)
    }

    /// The string NetSuite puts in the JSON row; `None` for NULL (the column is omitted).
    pub fn render(&self) -> Option<String> {
        match self {
            Cell::Null => None,
            Cell::Text(s) => Some(s.clone()),
            Cell::Num(d) => Some(d.normalize().to_string()),
            Cell::Date(d) => Some(d.format("%-m/%-d/%Y").to_string()),
            Cell::Time(t) => Some(t.format("%-m/%-d/%Y").to_string()),
        }
    }

    /// Join and grouping key: equal keys for values that compare equal.
    pub fn key(&self) -> Option<String> {
        match self {
            Cell::Null => None,
            Cell::Time(t) => Some(t.to_rfc3339()),
            Cell::Date(d) => Some(midnight(*d).to_rfc3339()),
            other => other.render(),
        }
    }

    fn as_decimal(&self) -> Option<Decimal> {
        match self {
            Cell::Num(d) => Some(*d),
            Cell::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn as_time(&self) -> Option<DateTime<Utc>> {
        match self {
            Cell::Time(t) => Some(*t),
            Cell::Date(d) => Some(midnight(*d)),
            Cell::Text(s) => parse_loose_time(s),
            _ => None,
        }
    }

    /// SQL comparison: `None` when either side is NULL or the two cannot be compared.
    pub fn compare(&self, other: &Cell) -> Option<Ordering> {
        match (self, other) {
            (Cell::Null, _) | (_, Cell::Null) => None,
            (Cell::Text(a), Cell::Text(b)) => Some(a.cmp(b)),
            (Cell::Num(_), _) | (_, Cell::Num(_)) => Some(self.as_decimal()?.cmp(&other.as_decimal()?)),
            _ => Some(self.as_time()?.cmp(&other.as_time()?)),
        }
    }

    /// Total order for ORDER BY: NULLs last, incomparable values by their text.
    pub fn sort_cmp(&self, other: &Cell) -> Ordering {
        match (self.is_null(), other.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ => self.compare(other).unwrap_or_else(|| self.render().cmp(&other.render())),
        }
    }
}

pub fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN))
}

/// Date literals compared with date columns: the account format (`MM/DD/YYYY`) or ISO.
fn parse_loose_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    for f in ["%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    ["%m/%d/%Y", "%Y-%m-%d"].iter().find_map(|f| NaiveDate::parse_from_str(s, f).ok()).map(midnight)
}

/// An Oracle datetime format (`YYYY-MM-DD HH24:MI:SS.FF3`) as a chrono format string.
pub fn oracle_format(fmt: &str) -> Result<String, String> {
    let tokens = [
        ("YYYY", "%Y"),
        ("HH24", "%H"),
        ("HH12", "%I"),
        ("HH", "%I"),
        ("MONTH", "%B"),
        ("MON", "%b"),
        ("MM", "%m"),
        ("DD", "%d"),
        ("MI", "%M"),
        ("SS", "%S"),
        ("FF1", "%.1f"),
        ("FF2", "%.2f"),
        ("FF3", "%.3f"),
        ("FF6", "%.6f"),
        ("FF9", "%.9f"),
        ("FF", "%.6f"),
        ("AM", "%p"),
        ("PM", "%p"),
        ("YY", "%y"),
    ];
    let upper = fmt.to_ascii_uppercase();
    let mut out = String::new();
    let mut i = 0;
    'outer: while i < fmt.len() {
        for (ora, chrono_fmt) in tokens {
            if upper[i..].starts_with(ora) {
                // chrono's %.Nf prints its own dot; Oracle's format carries the dot literally.
                if chrono_fmt.starts_with("%.") && out.ends_with('.') {
                    out.pop();
                }
                out.push_str(chrono_fmt);
                i += ora.len();
                continue 'outer;
            }
        }
        let c = fmt[i..].chars().next().ok_or("bad format")?;
        if c.is_ascii_alphabetic() {
            return Err(format!("unsupported format element in '{fmt}'"));
        }
        if c == '%' {
            out.push_str("%%");
        } else {
            out.push(c);
        }
        i += c.len_utf8();
    }
    Ok(out)
}

/// `TO_DATE` / `TO_TIMESTAMP`.
pub fn parse_with(text: &str, fmt: &str) -> Result<DateTime<Utc>, String> {
    let f = oracle_format(fmt)?;
    if let Ok(t) = NaiveDateTime::parse_from_str(text, &f) {
        return Ok(Utc.from_utc_datetime(&t));
    }
    NaiveDate::parse_from_str(text, &f).map(midnight).map_err(|_| format!("Unparseable date: {text}"))
}

/// `TO_CHAR(datetime, fmt)`.
pub fn format_with(cell: &Cell, fmt: &str) -> Result<Cell, String> {
    let t = match cell {
        Cell::Null => return Ok(Cell::Null),
        Cell::Num(_) | Cell::Text(_) => return Ok(Cell::opt_text(cell.render().as_deref())),
        Cell::Date(d) => midnight(*d),
        Cell::Time(t) => *t,
    };
    Ok(Cell::Text(t.format(&oracle_format(fmt)?).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_numerically_and_print_without_trailing_zeros() {
        let ten: Decimal = "10.50".parse().unwrap();
        assert_eq!(Cell::Num(ten).render().unwrap(), "10.5");
        assert_eq!(Cell::id(9).compare(&Cell::text("10")), Some(Ordering::Less));
        assert_eq!(Cell::Null.compare(&Cell::Null), None);
    }

    #[test]
    fn oracle_formats_round_trip() {
        let t = parse_with("2026-11-01 08:05:09", "YYYY-MM-DD HH24:MI:SS").unwrap();
        assert_eq!(format_with(&Cell::Time(t), "YYYY-MM-DD HH24:MI:SS").unwrap(), Cell::text("2026-11-01 08:05:09"));
        assert_eq!(Cell::Time(t).render().unwrap(), "11/1/2026");
        assert_eq!(
            format_with(&Cell::Time(t), "YYYY-MM-DD HH24:MI:SS.FF3").unwrap(),
            Cell::text("2026-11-01 08:05:09.000")
        );
    }
}
