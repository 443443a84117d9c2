//! Expressions over joined rows: column names bound to (table, column) once, SQL's
//! three-valued logic for conditions, Oracle's rules for NULL in `||`, and the few functions
//! connectors use (LOWER, TO_TIMESTAMP, TO_CHAR, CHR, BUILTIN.DF…).

use std::collections::HashMap;
use std::sync::Arc;

use rust_decimal::Decimal;

use super::cell::{Cell, format_with, parse_with};
use super::parser::{CmpOp, Expr};
use super::tables::{ColKind, Table};
use crate::netsuite::error::NsError;
use crate::netsuite::types::item_type_label;

pub struct Scope {
    pub tables: Vec<Arc<Table>>,
    /// Per table: the alias, or the table name when there is none (lower-case).
    pub names: Vec<String>,
    pub display: Arc<HashMap<u64, String>>,
}

pub type Row = Vec<Option<usize>>;

/// Where an expression is evaluated: on one joined row, or over a group of them.
pub enum At<'a> {
    Row(&'a [Option<usize>]),
    Group(&'a [Row]),
}

pub const AGGREGATES: &[&str] = &["COUNT", "SUM", "MAX", "MIN", "AVG"];

fn not_found(what: &str) -> NsError {
    NsError::search(what)
}

impl Scope {
    pub fn bind(&self, e: &mut Expr, visible: usize) -> Result<(), NsError> {
        match e {
            Expr::Col { qualifier, name } => {
                let (t, c) = self.resolve(qualifier.as_deref(), name, visible)?;
                *e = Expr::Bound(t, c);
                Ok(())
            }
            Expr::Bound(..) | Expr::Lit(_) | Expr::CountStar => Ok(()),
            Expr::Func { args, .. } => args.iter_mut().try_for_each(|a| self.bind(a, visible)),
            Expr::Neg(a) | Expr::Not(a) | Expr::IsNull { expr: a, .. } => self.bind(a, visible),
            Expr::Concat(a, b) | Expr::Cmp(a, _, b) | Expr::And(a, b) | Expr::Or(a, b) => {
                self.bind(a, visible)?;
                self.bind(b, visible)
            }
            Expr::Like { expr, pattern, .. } => {
                self.bind(expr, visible)?;
                self.bind(pattern, visible)
            }
            Expr::Between { expr, lo, hi, .. } => {
                self.bind(expr, visible)?;
                self.bind(lo, visible)?;
                self.bind(hi, visible)
            }
            Expr::In { expr, list, .. } => {
                self.bind(expr, visible)?;
                list.iter_mut().try_for_each(|a| self.bind(a, visible))
            }
        }
    }

    fn resolve(&self, qualifier: Option<&str>, name: &str, visible: usize) -> Result<(usize, usize), NsError> {
        let candidates: Vec<usize> = match qualifier {
            Some(q) => {
                let t = self.names[..visible]
                    .iter()
                    .position(|n| n.eq_ignore_ascii_case(q))
                    .ok_or_else(|| not_found(&format!("Unknown identifier '{q}'.")))?;
                vec![t]
            }
            None => (0..visible).collect(),
        };
        let hits: Vec<(usize, usize)> =
            candidates.iter().filter_map(|&t| self.tables[t].column(name).map(|c| (t, c))).collect();
        match hits.as_slice() {
            [one] => Ok(*one),
            [] => {
                let table = candidates.first().map_or("", |&t| self.tables[t].name);
                Err(not_found(&format!("Field '{}' for record '{table}' was not found.", name.to_ascii_lowercase())))
            }
            _ => Err(not_found(&format!("Column '{name}' is ambiguous."))),
        }
    }

    fn cell(&self, row: &[Option<usize>], t: usize, c: usize) -> Cell {
        row.get(t).copied().flatten().map_or(Cell::Null, |r| self.tables[t].rows[r][c].clone())
    }

    pub fn value(&self, e: &Expr, at: &At) -> Result<Cell, NsError> {
        Ok(match e {
            Expr::Bound(t, c) => match at {
                At::Row(r) => self.cell(r, *t, *c),
                At::Group(g) => g.first().map_or(Cell::Null, |r| self.cell(r, *t, *c)),
            },
            Expr::Lit(c) => c.clone(),
            Expr::CountStar => match at {
                At::Group(g) => Cell::Num(Decimal::from(g.len())),
                At::Row(_) => return Err(NsError::search("COUNT(*) needs GROUP BY or an aggregate query.")),
            },
            Expr::Func { name, args } if AGGREGATES.contains(&name.as_str()) => match at {
                At::Group(g) => self.aggregate(name, args, g)?,
                At::Row(_) => return Err(NsError::search(format!("{name} is not allowed here."))),
            },
            Expr::Func { name, args } => self.function(name, args, at)?,
            Expr::Concat(a, b) => {
                let (a, b) = (self.value(a, at)?, self.value(b, at)?);
                Cell::Text(format!("{}{}", a.render().unwrap_or_default(), b.render().unwrap_or_default()))
            }
            Expr::Neg(a) => match self.value(a, at)? {
                Cell::Num(n) => Cell::Num(-n),
                _ => return Err(NsError::search("Invalid number.")),
            },
            Expr::Col { .. } => return Err(NsError::search("Unbound column.")),
            _ => match self.truth(e, at)? {
                Some(b) => Cell::flag(b),
                None => Cell::Null,
            },
        })
    }

    fn aggregate(&self, name: &str, args: &[Expr], g: &[Row]) -> Result<Cell, NsError> {
        let arg = args.first().ok_or_else(|| NsError::search(format!("{name} needs an argument.")))?;
        let mut values = Vec::with_capacity(g.len());
        for r in g {
            let v = self.value(arg, &At::Row(r))?;
            if !v.is_null() {
                values.push(v);
            }
        }
        let nums = || values.iter().filter_map(|v| if let Cell::Num(n) = v { Some(*n) } else { None });
        Ok(match name {
            "COUNT" => Cell::Num(Decimal::from(values.len())),
            "SUM" if values.is_empty() => Cell::Null,
            "SUM" => Cell::Num(nums().sum()),
            "AVG" if values.is_empty() => Cell::Null,
            "AVG" => Cell::Num(nums().sum::<Decimal>() / Decimal::from(values.len())),
            "MAX" => values.into_iter().max_by(|a, b| a.sort_cmp(b)).unwrap_or(Cell::Null),
            _ => values.into_iter().min_by(|a, b| a.sort_cmp(b)).unwrap_or(Cell::Null),
        })
    }

    fn function(&self, name: &str, args: &[Expr], at: &At) -> Result<Cell, NsError> {
        let vals = args.iter().map(|a| self.value(a, at)).collect::<Result<Vec<_>, _>>()?;
        let arg = |i: usize| vals.get(i).cloned().unwrap_or(Cell::Null);
        let text_of = |c: &Cell| c.render();
        let bad = |e: String| NsError::search(e);
        Ok(match name {
            "LOWER" => text_of(&arg(0)).map_or(Cell::Null, |s| Cell::Text(s.to_lowercase())),
            "UPPER" => text_of(&arg(0)).map_or(Cell::Null, |s| Cell::Text(s.to_uppercase())),
            "TRIM" => text_of(&arg(0)).map_or(Cell::Null, |s| Cell::Text(s.trim().to_string())),
            "LENGTH" => text_of(&arg(0)).map_or(Cell::Null, |s| Cell::Num(Decimal::from(s.chars().count()))),
            "NVL" | "COALESCE" => vals.iter().find(|v| !v.is_null()).cloned().unwrap_or(Cell::Null),
            "CHR" => match arg(0) {
                Cell::Num(n) => n
                    .to_string()
                    .parse::<u32>()
                    .ok()
                    .and_then(char::from_u32)
                    .map_or(Cell::Null, |c| Cell::Text(c.to_string())),
                _ => return Err(bad("CHR needs a number.".into())),
            },
            "TO_NUMBER" => text_of(&arg(0)).map_or(Ok(Cell::Null), |s| {
                s.trim().parse().map(Cell::Num).map_err(|_| bad(format!("Invalid number: {s}")))
            })?,
            "TO_DATE" | "TO_TIMESTAMP" => match (text_of(&arg(0)), text_of(&arg(1))) {
                (None, _) => Cell::Null,
                (Some(t), Some(f)) => Cell::Time(parse_with(&t, &f).map_err(bad)?),
                (Some(t), None) => Cell::Time(parse_with(&t, "MM/DD/YYYY").map_err(bad)?),
            },
            "TO_CHAR" => match text_of(&arg(1)) {
                Some(f) => format_with(&arg(0), &f).map_err(bad)?,
                None => Cell::opt_text(text_of(&arg(0)).as_deref()),
            },
            "BUILTIN.DF" => self.display(args.first(), arg(0)),
            _ => return Err(NsError::search(format!("Unknown function {name}."))),
        })
    }

    /// `BUILTIN.DF`: the display text of a list/record column, the value itself otherwise.
    fn display(&self, expr: Option<&Expr>, value: Cell) -> Cell {
        let kind = match expr {
            Some(Expr::Bound(t, c)) => self.tables[*t].columns[*c].1,
            _ => ColKind::Plain,
        };
        let Some(text) = value.render() else { return Cell::Null };
        match kind {
            ColKind::Ref => {
                text.parse().ok().and_then(|id| self.display.get(&id)).map_or(value, |n| Cell::text(n.clone()))
            }
            ColKind::ItemType => Cell::text(item_type_label(&text)),
            ColKind::TranType => crate::netsuite::types::RECORD_TYPES
                .iter()
                .find(|t| t.code == text)
                .map_or(value, |t| Cell::text(crate::netsuite::store::type_label(t.name))),
            ColKind::Status => crate::netsuite::types::enum_ref_name("status", &text).map_or(value, Cell::text),
            ColKind::Plain => value,
        }
    }

    pub fn truth(&self, e: &Expr, at: &At) -> Result<Option<bool>, NsError> {
        Ok(match e {
            Expr::And(a, b) => match (self.truth(a, at)?, self.truth(b, at)?) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Expr::Or(a, b) => match (self.truth(a, at)?, self.truth(b, at)?) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Expr::Not(a) => self.truth(a, at)?.map(|b| !b),
            Expr::Cmp(a, op, b) => self.value(a, at)?.compare(&self.value(b, at)?).map(|o| match op {
                CmpOp::Eq => o.is_eq(),
                CmpOp::Ne => o.is_ne(),
                CmpOp::Lt => o.is_lt(),
                CmpOp::Le => o.is_le(),
                CmpOp::Gt => o.is_gt(),
                CmpOp::Ge => o.is_ge(),
            }),
            Expr::IsNull { expr, negated } => Some(self.value(expr, at)?.is_null() != *negated),
            Expr::In { expr, list, negated } => {
                let v = self.value(expr, at)?;
                let mut unknown = v.is_null();
                let mut hit = false;
                for item in list {
                    match v.compare(&self.value(item, at)?) {
                        Some(o) if o.is_eq() => hit = true,
                        None => unknown = true,
                        _ => {}
                    }
                }
                if hit {
                    Some(!negated)
                } else if unknown {
                    None
                } else {
                    Some(*negated)
                }
            }
            Expr::Like { expr, pattern, negated } => {
                match (self.value(expr, at)?.render(), self.value(pattern, at)?.render()) {
                    (Some(s), Some(p)) => Some(like(&s, &p) != *negated),
                    _ => None,
                }
            }
            Expr::Between { expr, lo, hi, negated } => {
                let v = self.value(expr, at)?;
                match (v.compare(&self.value(lo, at)?), v.compare(&self.value(hi, at)?)) {
                    (Some(a), Some(b)) => Some((a.is_ge() && b.is_le()) != *negated),
                    _ => None,
                }
            }
            other => match self.value(other, at)? {
                Cell::Null => None,
                Cell::Text(t) if t == "T" => Some(true),
                Cell::Text(t) if t == "F" => Some(false),
                _ => return Err(NsError::search("A condition was expected.")),
            },
        })
    }
}

/// SQL LIKE with `%` and `_`.
fn like(s: &str, p: &str) -> bool {
    let (s, p): (Vec<char>, Vec<char>) = (s.chars().collect(), p.chars().collect());
    let (mut si, mut pi, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == s[si]) {
            si += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '%')
}
