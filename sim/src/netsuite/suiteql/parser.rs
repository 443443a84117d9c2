//! A recursive-descent parser for the SuiteQL subset a connector needs:
//! `SELECT [DISTINCT] … FROM t [a] [[LEFT] JOIN u [b] ON …]… [WHERE …] [GROUP BY …] [ORDER BY …]`
//! with AND/OR/NOT, comparisons, IN, IS [NOT] NULL, LIKE, BETWEEN, `||` and a few functions.
//! Anything else is refused rather than guessed at.

use rust_decimal::Decimal;

use super::cell::Cell;
use super::lexer::{Tok, syntax, tokenize};
use crate::netsuite::error::NsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Col {
        qualifier: Option<String>,
        name: String,
    },
    /// A column bound to (table position in the FROM list, column index).
    Bound(usize, usize),
    Lit(Cell),
    Func {
        name: String,
        args: Vec<Expr>,
    },
    CountStar,
    Concat(Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Cmp(Box<Expr>, CmpOp, Box<Expr>),
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        negated: bool,
    },
    Between {
        expr: Box<Expr>,
        lo: Box<Expr>,
        hi: Box<Expr>,
        negated: bool,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// `*` or `alias.*`.
    Star(Option<String>),
    Expr {
        expr: Expr,
        alias: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableRef {
    pub table: String,
    pub alias: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    pub left: bool,
    pub table: TableRef,
    pub on: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub distinct: bool,
    pub select: Vec<SelectItem>,
    pub from: TableRef,
    pub joins: Vec<Join>,
    pub filter: Option<Expr>,
    pub group: Vec<Expr>,
    pub order: Vec<(Expr, bool)>,
}

const RESERVED: &[&str] = &[
    "SELECT", "FROM", "WHERE", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "CROSS", "ON", "ORDER", "GROUP",
    "BY", "HAVING", "AND", "OR", "NOT", "AS", "ASC", "DESC", "IN", "IS", "NULL", "LIKE", "BETWEEN", "UNION", "FETCH",
    "OFFSET", "LIMIT", "DISTINCT", "NULLS",
];

pub fn parse(q: &str) -> Result<Query, NsError> {
    let mut p = Parser { toks: tokenize(q)?, pos: 0 };
    if !p.eat_kw("SELECT") {
        return Err(NsError::search("Only SELECT statements are supported."));
    }
    let query = p.query()?;
    match p.peek() {
        None => Ok(query),
        Some(t) => Err(syntax(&format!("unexpected {t:?} after the end of the query"))),
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let hit = self.is_kw(kw);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), NsError> {
        if self.eat_kw(kw) { Ok(()) } else { Err(syntax(&format!("expected {kw} near {:?}", self.peek()))) }
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        let hit = matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn expect_sym(&mut self, sym: &str) -> Result<(), NsError> {
        if self.eat_sym(sym) { Ok(()) } else { Err(syntax(&format!("expected '{sym}' near {:?}", self.peek()))) }
    }

    fn ident(&mut self) -> Result<String, NsError> {
        match self.next() {
            Some(Tok::Ident(s)) if !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(&s)) => Ok(s),
            other => Err(syntax(&format!("expected a name, found {other:?}"))),
        }
    }

    /// An alias: optional `AS`, then a name that is not a keyword.
    fn alias(&mut self) -> Result<Option<String>, NsError> {
        if self.eat_kw("AS") {
            return self.ident().map(Some);
        }
        match self.peek() {
            Some(Tok::Ident(s)) if !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s)) => self.ident().map(Some),
            _ => Ok(None),
        }
    }

    fn query(&mut self) -> Result<Query, NsError> {
        let distinct = self.eat_kw("DISTINCT");
        let mut select = vec![self.select_item()?];
        while self.eat_sym(",") {
            select.push(self.select_item()?);
        }
        self.expect_kw("FROM")?;
        let from = self.table_ref()?;
        let mut joins = Vec::new();
        loop {
            let left = if self.eat_kw("LEFT") {
                self.eat_kw("OUTER");
                true
            } else {
                self.eat_kw("INNER");
                false
            };
            if !self.eat_kw("JOIN") {
                if left {
                    return Err(syntax("expected JOIN after LEFT"));
                }
                break;
            }
            let table = self.table_ref()?;
            self.expect_kw("ON")?;
            joins.push(Join { left, table, on: self.expr()? });
        }
        let filter = if self.eat_kw("WHERE") { Some(self.expr()?) } else { None };
        let mut group = Vec::new();
        if self.eat_kw("GROUP") {
            self.expect_kw("BY")?;
            group.push(self.expr()?);
            while self.eat_sym(",") {
                group.push(self.expr()?);
            }
        }
        let mut order = Vec::new();
        if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            loop {
                let e = self.expr()?;
                let desc = if self.eat_kw("DESC") {
                    true
                } else {
                    self.eat_kw("ASC");
                    false
                };
                order.push((e, desc));
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        Ok(Query { distinct, select, from, joins, filter, group, order })
    }

    fn select_item(&mut self) -> Result<SelectItem, NsError> {
        if self.eat_sym("*") {
            return Ok(SelectItem::Star(None));
        }
        if let (Some(Tok::Ident(q)), Some(Tok::Sym(".")), Some(Tok::Sym("*"))) =
            (self.toks.get(self.pos), self.toks.get(self.pos + 1), self.toks.get(self.pos + 2))
        {
            let q = q.clone();
            self.pos += 3;
            return Ok(SelectItem::Star(Some(q)));
        }
        let expr = self.expr()?;
        Ok(SelectItem::Expr { expr, alias: self.alias()? })
    }

    fn table_ref(&mut self) -> Result<TableRef, NsError> {
        let table = self.ident()?;
        Ok(TableRef { table, alias: self.alias()? })
    }

    fn expr(&mut self) -> Result<Expr, NsError> {
        let mut left = self.and_expr()?;
        while self.eat_kw("OR") {
            left = Expr::Or(Box::new(left), Box::new(self.and_expr()?));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, NsError> {
        let mut left = self.not_expr()?;
        while self.eat_kw("AND") {
            left = Expr::And(Box::new(left), Box::new(self.not_expr()?));
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<Expr, NsError> {
        if self.eat_kw("NOT") {
            return Ok(Expr::Not(Box::new(self.not_expr()?)));
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Expr, NsError> {
        let left = self.concat()?;
        let ops = [
            ("=", CmpOp::Eq),
            ("<>", CmpOp::Ne),
            ("!=", CmpOp::Ne),
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
        ];
        for (sym, op) in ops {
            if self.eat_sym(sym) {
                return Ok(Expr::Cmp(Box::new(left), op, Box::new(self.concat()?)));
            }
        }
        if self.eat_kw("IS") {
            let negated = self.eat_kw("NOT");
            self.expect_kw("NULL")?;
            return Ok(Expr::IsNull { expr: Box::new(left), negated });
        }
        let negated = self.eat_kw("NOT");
        let left = Box::new(left);
        if self.eat_kw("IN") {
            self.expect_sym("(")?;
            let mut list = vec![self.concat()?];
            while self.eat_sym(",") {
                list.push(self.concat()?);
            }
            self.expect_sym(")")?;
            return Ok(Expr::In { expr: left, list, negated });
        }
        if self.eat_kw("LIKE") {
            return Ok(Expr::Like { expr: left, pattern: Box::new(self.concat()?), negated });
        }
        if self.eat_kw("BETWEEN") {
            let lo = Box::new(self.concat()?);
            self.expect_kw("AND")?;
            return Ok(Expr::Between { expr: left, lo, hi: Box::new(self.concat()?), negated });
        }
        if negated {
            return Err(syntax("expected IN, LIKE or BETWEEN after NOT"));
        }
        Ok(*left)
    }

    fn concat(&mut self) -> Result<Expr, NsError> {
        let mut left = self.primary()?;
        while self.eat_sym("||") {
            left = Expr::Concat(Box::new(left), Box::new(self.primary()?));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Expr, NsError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Expr::Lit(Cell::Text(s))),
            Some(Tok::Num(n)) => {
                n.parse::<Decimal>().map(|d| Expr::Lit(Cell::Num(d))).map_err(|_| syntax(&format!("bad number {n}")))
            }
            Some(Tok::Sym("-")) => Ok(Expr::Neg(Box::new(self.primary()?))),
            Some(Tok::Sym("(")) => {
                let e = self.expr()?;
                self.expect_sym(")")?;
                Ok(e)
            }
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("NULL") => Ok(Expr::Lit(Cell::Null)),
            Some(Tok::Ident(s)) if !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(&s)) => self.name_or_call(s),
            other => Err(syntax(&format!("unexpected {other:?}"))),
        }
    }

    fn name_or_call(&mut self, first: String) -> Result<Expr, NsError> {
        let (qualifier, name) = if self.eat_sym(".") { (Some(first), self.ident()?) } else { (None, first) };
        if !self.eat_sym("(") {
            return Ok(Expr::Col { qualifier, name });
        }
        let fname = match qualifier {
            Some(q) => format!("{q}.{name}").to_ascii_uppercase(),
            None => name.to_ascii_uppercase(),
        };
        if fname == "COUNT" && self.eat_sym("*") {
            self.expect_sym(")")?;
            return Ok(Expr::CountStar);
        }
        let mut args = Vec::new();
        if !self.eat_sym(")") {
            args.push(self.expr()?);
            while self.eat_sym(",") {
                args.push(self.expr()?);
            }
            self.expect_sym(")")?;
        }
        Ok(Expr::Func { name: fname, args })
    }
}
