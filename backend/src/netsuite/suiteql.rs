//! SuiteQL text. Every string that reaches a query goes through [`literal`]: SKUs and e-mail
//! addresses come from shops and customers, and a quote in a SKU must never end a literal.
//!
//! SuiteQL is Oracle SQL underneath: a literal is quoted with `'`, a quote inside is doubled,
//! there are no backslash escapes, and a literal may not exceed 4,000 bytes. Control characters
//! cannot be written inside a literal portably, so they are concatenated as `CHR(n)`; long
//! strings are concatenated from pieces.

/// Oracle's limit is 4,000 bytes per literal; pieces stay well under it even in 4-byte UTF-8.
const PIECE_CHARS: usize = 900;

/// `s` as a SuiteQL string expression that evaluates to exactly `s`.
pub fn literal(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut chars_in_piece = 0;
    let flush = |parts: &mut Vec<String>, current: &mut String| {
        if !current.is_empty() {
            parts.push(format!("'{}'", std::mem::take(current)));
        }
    };
    for c in s.chars() {
        if c.is_control() {
            flush(&mut parts, &mut current);
            chars_in_piece = 0;
            parts.push(format!("CHR({})", c as u32));
            continue;
        }
        if chars_in_piece == PIECE_CHARS {
            flush(&mut parts, &mut current);
            chars_in_piece = 0;
        }
        if c == '\'' {
            current.push_str("''");
        } else {
            current.push(c);
        }
        chars_in_piece += 1;
    }
    flush(&mut parts, &mut current);
    parts.join(" || ")
}

/// `('a', 'b', …)` for an `IN` predicate. Oracle allows at most 1,000 entries; callers chunk.
pub fn in_list<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = values.into_iter().map(literal).collect();
    assert!(!items.is_empty() && items.len() <= 1000, "an IN list holds 1–1000 values, got {}", items.len());
    format!("({})", items.join(", "))
}

/// A query read completely despite NetSuite's 100,000-row cap: it is run in windows on a
/// strictly increasing id column (`… AND id > <last> ORDER BY id`), each window paged with
/// `limit`/`offset` and restarted before the cap.
#[derive(Debug, Clone)]
pub struct WindowedQuery {
    /// `SELECT … FROM … [JOIN …]` without WHERE or ORDER BY.
    pub select: String,
    /// Conditions joined with AND, each already built with [`literal`] where it holds text.
    pub conditions: Vec<String>,
    /// The id column the windows move along, as written in the query (`id`, `t.id`).
    pub id_column: String,
    /// Its name in the result rows (lower-case, without the table alias).
    pub id_key: String,
}

impl WindowedQuery {
    pub fn new(select: impl Into<String>, id_column: &str) -> WindowedQuery {
        let id_key = id_column.rsplit('.').next().unwrap_or(id_column).to_ascii_lowercase();
        WindowedQuery { select: select.into(), conditions: Vec::new(), id_column: id_column.into(), id_key }
    }

    pub fn and(mut self, condition: impl Into<String>) -> WindowedQuery {
        self.conditions.push(condition.into());
        self
    }

    /// The SQL of the window that starts after `after`.
    pub fn window(&self, after: Option<i64>) -> String {
        let mut conditions = self.conditions.clone();
        if let Some(last) = after {
            conditions.push(format!("{} > {last}", self.id_column));
        }
        let mut q = self.select.clone();
        if !conditions.is_empty() {
            q.push_str(" WHERE ");
            q.push_str(&conditions.join(" AND "));
        }
        q.push_str(&format!(" ORDER BY {}", self.id_column));
        q
    }
}

/// NetSuite's `lastmodifieddate` as wns asks for it (`TO_CHAR(…, TIME_FORMAT)`) and hands it back
/// (`TO_TIMESTAMP(…, TIME_FORMAT)`): NetSuite's own clock and zone, never converted.
pub const TIME_FORMAT: &str = "YYYY-MM-DD HH24:MI:SS";

/// NetSuite's time text minus `secs`, in the same format (naive: NetSuite's zone is kept).
pub fn time_minus(ns_time: &str, secs: u64) -> String {
    match chrono::NaiveDateTime::parse_from_str(ns_time, "%Y-%m-%d %H:%M:%S") {
        Ok(t) => (t - chrono::Duration::seconds(secs as i64)).format("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => ns_time.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a SuiteQL string expression back the way Oracle would: quoted pieces with doubled
    /// quotes, `CHR(n)`, joined by `||`. Anything else is a failure of `literal`.
    fn evaluate(expr: &str) -> String {
        let mut out = String::new();
        let mut rest = expr;
        loop {
            if let Some(r) = rest.strip_prefix('\'') {
                let mut i = 0;
                let b: Vec<char> = r.chars().collect();
                loop {
                    match b.get(i) {
                        Some('\'') if b.get(i + 1) == Some(&'\'') => {
                            out.push('\'');
                            i += 2;
                        }
                        Some('\'') => break,
                        Some(c) => {
                            out.push(*c);
                            i += 1;
                        }
                        None => panic!("unterminated literal in {expr}"),
                    }
                }
                let consumed: usize = b[..=i].iter().map(|c| c.len_utf8()).sum();
                rest = &r[consumed..];
            } else if let Some(r) = rest.strip_prefix("CHR(") {
                let end = r.find(')').unwrap();
                out.push(char::from_u32(r[..end].parse().unwrap()).unwrap());
                rest = &r[end + 1..];
            } else {
                panic!("unexpected text {rest:?} in {expr}");
            }
            match rest.strip_prefix(" || ") {
                Some(r) => rest = r,
                None if rest.is_empty() => return out,
                None => panic!("trailing {rest:?} in {expr}"),
            }
        }
    }

    #[test]
    fn hostile_skus_stay_inside_their_literal() {
        let long = "Ä'-".repeat(700);
        let hostile = [
            "O'Brien",
            "'; DROP TABLE item; --",
            "SKU-1' OR '1'='1",
            "-- comment",
            "/* x */",
            "''''",
            "tab\there",
            "line\nbreak\r\n",
            "ünïcødé-雪-🦀",
            "back\\slash",
            "",
            long.as_str(),
        ];
        for sku in hostile {
            let lit = literal(sku);
            assert_eq!(evaluate(&lit), sku, "round trip of {sku:?} via {lit}");
            // Outside the quoted pieces only `||` and CHR(..) appear: no way to end the string early.
            let mut outside = String::new();
            let mut inside = false;
            for c in lit.chars() {
                if c == '\'' {
                    inside = !inside;
                } else if !inside {
                    outside.push(c);
                }
            }
            assert!(
                outside.chars().all(|c| " |CHR()0123456789".contains(c)),
                "{sku:?} leaked {outside:?} outside literals"
            );
            for piece in lit.split(" || ") {
                assert!(piece.len() <= 4000, "a piece of {} bytes exceeds Oracle's literal limit", piece.len());
            }
        }
    }

    #[test]
    fn in_lists_and_windows_read_as_intended() {
        assert_eq!(in_list(["A", "O'B"]), "('A', 'O''B')");
        let q = WindowedQuery::new("SELECT id, itemid FROM item", "id").and(format!("itemid IN {}", in_list(["A"])));
        assert_eq!(q.window(None), "SELECT id, itemid FROM item WHERE itemid IN ('A') ORDER BY id");
        assert_eq!(q.window(Some(42)), "SELECT id, itemid FROM item WHERE itemid IN ('A') AND id > 42 ORDER BY id");
        assert_eq!(WindowedQuery::new("SELECT t.id FROM transaction t", "t.id").id_key, "id");
    }
}
