//! Runs a parsed query: equi-joins through a hash index (a 100,000-item catalogue joined with
//! its stock stays fast), WHERE, grouping and aggregates, ORDER BY (NULLs last), DISTINCT.

use std::collections::HashMap;

use super::cell::Cell;
use super::eval::{AGGREGATES, At, Row, Scope};
use super::parser::{CmpOp, Expr, Query, SelectItem};
use crate::netsuite::error::NsError;

pub struct Output {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

enum OrderKey {
    Output(usize),
    Expr(Expr),
}

fn has_aggregate(e: &Expr) -> bool {
    match e {
        Expr::CountStar => true,
        Expr::Func { name, args } => AGGREGATES.contains(&name.as_str()) || args.iter().any(has_aggregate),
        Expr::Concat(a, b) | Expr::Cmp(a, _, b) | Expr::And(a, b) | Expr::Or(a, b) => {
            has_aggregate(a) || has_aggregate(b)
        }
        Expr::Neg(a) | Expr::Not(a) => has_aggregate(a),
        _ => false,
    }
}

fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::And(a, b) => [conjuncts(a), conjuncts(b)].concat(),
        other => vec![other],
    }
}

fn max_table(e: &Expr) -> Option<usize> {
    match e {
        Expr::Bound(t, _) => Some(*t),
        Expr::Func { args, .. } => args.iter().filter_map(max_table).max(),
        Expr::Concat(a, b) => max_table(a).max(max_table(b)),
        Expr::Neg(a) => max_table(a),
        _ => None,
    }
}

/// An `ON` conjunct `k.col = <expr over earlier tables>` that a hash index can answer.
fn hash_plan(on: &Expr, k: usize) -> Option<(usize, Expr)> {
    conjuncts(on).into_iter().find_map(|c| match c {
        Expr::Cmp(a, CmpOp::Eq, b) => match (a.as_ref(), b.as_ref()) {
            (Expr::Bound(t, col), other) | (other, Expr::Bound(t, col))
                if *t == k && max_table(other).is_some_and(|m| m < k) =>
            {
                Some((*col, other.clone()))
            }
            _ => None,
        },
        _ => None,
    })
}

pub fn run(mut q: Query, scope: &Scope) -> Result<Output, NsError> {
    // Bind: each ON sees the tables joined so far; everything else sees all of them.
    for (j, join) in q.joins.iter_mut().enumerate() {
        scope.bind(&mut join.on, j + 2)?;
    }
    let all = scope.tables.len();
    if let Some(f) = q.filter.as_mut() {
        scope.bind(f, all)?;
    }
    let (columns, mut select) = expand_select(&q.select, scope)?;
    for e in &mut select {
        scope.bind(e, all)?;
    }
    for g in &mut q.group {
        scope.bind(g, all)?;
    }
    let mut order = Vec::new();
    for (e, desc) in std::mem::take(&mut q.order) {
        let key = match &e {
            Expr::Col { qualifier: None, name } if columns.iter().any(|c| c.eq_ignore_ascii_case(name)) => {
                OrderKey::Output(columns.iter().position(|c| c.eq_ignore_ascii_case(name)).unwrap_or(0))
            }
            Expr::Lit(Cell::Num(n)) => OrderKey::Output(n.to_string().parse::<usize>().unwrap_or(1).saturating_sub(1)),
            _ => {
                let mut e = e;
                scope.bind(&mut e, all)?;
                OrderKey::Expr(e)
            }
        };
        order.push((key, desc));
    }

    let rows = join_rows(&q, scope)?;
    let mut kept = Vec::with_capacity(rows.len());
    for r in rows {
        if q.filter.as_ref().map_or(Ok(Some(true)), |f| scope.truth(f, &At::Row(&r)))? == Some(true) {
            kept.push(r);
        }
    }
    let grouped = !q.group.is_empty() || select.iter().any(has_aggregate);
    let groups: Vec<Vec<Row>> =
        if grouped { group_rows(&q.group, kept, scope)? } else { kept.into_iter().map(|r| vec![r]).collect() };

    let mut out: Vec<(Vec<Cell>, Vec<Cell>)> = Vec::with_capacity(groups.len());
    for g in &groups {
        let at = if grouped { At::Group(g) } else { At::Row(&g[0]) };
        let cells = select.iter().map(|e| scope.value(e, &at)).collect::<Result<Vec<_>, _>>()?;
        let keys = order
            .iter()
            .map(|(k, _)| match k {
                OrderKey::Output(i) => Ok(cells.get(*i).cloned().unwrap_or(Cell::Null)),
                OrderKey::Expr(e) => scope.value(e, &at),
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push((cells, keys));
    }
    if !order.is_empty() {
        out.sort_by(|(_, a), (_, b)| {
            order
                .iter()
                .enumerate()
                .map(|(i, (_, desc))| {
                    let o = a[i].sort_cmp(&b[i]);
                    if *desc { o.reverse() } else { o }
                })
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    let mut rows: Vec<Vec<Cell>> = out.into_iter().map(|(c, _)| c).collect();
    if q.distinct {
        let mut seen = std::collections::HashSet::new();
        rows.retain(|r| seen.insert(r.iter().map(Cell::key).collect::<Vec<_>>()));
    }
    Ok(Output { columns, rows })
}

fn expand_select(items: &[SelectItem], scope: &Scope) -> Result<(Vec<String>, Vec<Expr>), NsError> {
    let (mut names, mut exprs) = (Vec::new(), Vec::new());
    let mut unnamed = 0;
    for item in items {
        match item {
            SelectItem::Star(q) => {
                for (t, table) in scope.tables.iter().enumerate() {
                    if q.as_ref().is_some_and(|q| !scope.names[t].eq_ignore_ascii_case(q)) {
                        continue;
                    }
                    for (c, (name, _)) in table.columns.iter().enumerate() {
                        names.push(name.to_string());
                        exprs.push(Expr::Bound(t, c));
                    }
                }
            }
            SelectItem::Expr { expr, alias } => {
                let name = match (alias, expr) {
                    (Some(a), _) => a.to_ascii_lowercase(),
                    (None, Expr::Col { name, .. }) => name.to_ascii_lowercase(),
                    // [INFERRED] Oracle's name for an unaliased expression column.
                    (None, _) => {
                        unnamed += 1;
                        format!("expr{unnamed}")
                    }
                };
                names.push(name);
                exprs.push(expr.clone());
            }
        }
    }
    Ok((names, exprs))
}

fn join_rows(q: &Query, scope: &Scope) -> Result<Vec<Row>, NsError> {
    let mut rows: Vec<Row> = (0..scope.tables[0].rows.len()).map(|i| vec![Some(i)]).collect();
    for (j, join) in q.joins.iter().enumerate() {
        let k = j + 1;
        let table = &scope.tables[k];
        let plan = hash_plan(&join.on, k).map(|(col, probe)| {
            let mut index: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, r) in table.rows.iter().enumerate() {
                if let Some(key) = r[col].key() {
                    index.entry(key).or_default().push(i);
                }
            }
            (index, probe)
        });
        let all: Vec<usize> = (0..table.rows.len()).collect();
        let mut next = Vec::new();
        for row in rows {
            let candidates: &[usize] = match &plan {
                Some((index, probe)) => {
                    let key = scope.value(probe, &At::Row(&row))?.key();
                    key.and_then(|k| index.get(&k)).map_or(&[], Vec::as_slice)
                }
                None => &all,
            };
            let mut matched = false;
            for &c in candidates {
                let mut r = row.clone();
                r.push(Some(c));
                if scope.truth(&join.on, &At::Row(&r))? == Some(true) {
                    next.push(r);
                    matched = true;
                }
            }
            if !matched && join.left {
                let mut r = row;
                r.push(None);
                next.push(r);
            }
        }
        rows = next;
    }
    Ok(rows)
}

fn group_rows(by: &[Expr], rows: Vec<Row>, scope: &Scope) -> Result<Vec<Vec<Row>>, NsError> {
    if by.is_empty() {
        return Ok(vec![rows]);
    }
    let mut index: HashMap<Vec<Option<String>>, usize> = HashMap::new();
    let mut groups: Vec<Vec<Row>> = Vec::new();
    for r in rows {
        let key = by.iter().map(|e| scope.value(e, &At::Row(&r)).map(|c| c.key())).collect::<Result<Vec<_>, _>>()?;
        let i = *index.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[i].push(r);
    }
    Ok(groups)
}
