//! SuiteQL tokens. String literals follow Oracle: single quotes, a doubled quote inside, no
//! backslash escapes, any Unicode — so a hostile SKU can only ever be one literal.

use crate::netsuite::error::NsError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Sym(&'static str),
}

const SYMBOLS: &[&str] = &["<>", "!=", "<=", ">=", "||", "=", "<", ">", "(", ")", ",", "*", ".", "-", "+", "/"];

pub fn tokenize(q: &str) -> Result<Vec<Tok>, NsError> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let (s, next) = string_literal(&chars, i + 1)?;
            out.push(Tok::Str(s));
            i = next;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            out.push(Tok::Num(chars[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$' || chars[i] == '#')
            {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else if c == '"' {
            let start = i + 1;
            let end = (start..chars.len())
                .find(|&j| chars[j] == '"')
                .ok_or_else(|| syntax("unterminated quoted identifier"))?;
            out.push(Tok::Ident(chars[start..end].iter().collect()));
            i = end + 1;
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let sym = SYMBOLS
                .iter()
                .find(|s| rest.starts_with(*s))
                .ok_or_else(|| syntax(&format!("unexpected character '{c}'")))?;
            out.push(Tok::Sym(sym));
            i += sym.chars().count();
        }
    }
    Ok(out)
}

fn string_literal(chars: &[char], mut i: usize) -> Result<(String, usize), NsError> {
    let mut s = String::new();
    loop {
        match (chars.get(i), chars.get(i + 1)) {
            (Some('\''), Some('\'')) => {
                s.push('\'');
                i += 2;
            }
            (Some('\''), _) => return Ok((s, i + 1)),
            (Some(c), _) => {
                s.push(*c);
                i += 1;
            }
            (None, _) => return Err(syntax("unterminated string literal")),
        }
    }
}

pub fn syntax(problem: &str) -> NsError {
    NsError::search(format!("Syntax error: {problem}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubled_quotes_and_comment_markers_stay_inside_literals() {
        let toks = tokenize("itemid = 'O''Brien -- x' || CHR(10)").unwrap();
        assert_eq!(toks[2], Tok::Str("O'Brien -- x".into()));
        assert_eq!(toks[3], Tok::Sym("||"));
        assert!(tokenize("'open").is_err());
    }
}
