//! JSON exactly as WordPress writes it, and an order-preserving value type.
//!
//! `wp_json_encode` escapes `/` as `\/` and every non-ASCII character as `\uXXXX`; webhook signatures
//! are computed over those bytes, so the simulator must produce them byte for byte. `serde_json`
//! here is built without `preserve_order`, so [`OJson`] keeps object keys in document order for
//! request bodies, stored meta values and the tests' structural comparisons.

use std::fmt;
use std::io;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// `serde_json` formatter that escapes like PHP's `json_encode` with default flags.
struct PhpFormatter;

impl serde_json::ser::Formatter for PhpFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        let mut start = 0;
        for (i, ch) in fragment.char_indices() {
            if ch != '/' && ch.is_ascii() {
                continue;
            }
            w.write_all(&bytes[start..i])?;
            if ch == '/' {
                w.write_all(b"\\/")?;
            } else {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    write!(w, "\\u{unit:04x}")?;
                }
            }
            start = i + ch.len_utf8();
        }
        w.write_all(&bytes[start..])
    }
}

/// Serialises `value` the way `wp_json_encode` would.
pub fn to_php_json<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PhpFormatter);
    value.serialize(&mut ser).expect("serialising to memory cannot fail");
    out
}

/// A JSON value whose objects keep their keys in document order.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum OJson {
    #[default]
    Null,
    Bool(bool),
    Num(serde_json::Number),
    Str(String),
    Arr(Vec<OJson>),
    Obj(Vec<(String, OJson)>),
}

impl OJson {
    pub fn parse(bytes: &[u8]) -> Result<OJson, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Converts any serialisable value, keeping struct field order.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> OJson {
        OJson::parse(&to_php_json(value)).expect("our own JSON parses")
    }

    pub fn str(s: impl Into<String>) -> OJson {
        OJson::Str(s.into())
    }

    pub fn int(n: i64) -> OJson {
        OJson::Num(n.into())
    }

    pub fn obj<K: Into<String>>(pairs: impl IntoIterator<Item = (K, OJson)>) -> OJson {
        OJson::Obj(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn get(&self, key: &str) -> Option<&OJson> {
        match self {
            OJson::Obj(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, OJson::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            OJson::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Text of a scalar as PHP would cast it to a string (`true` → "1", `false`/`null` → "").
    pub fn to_php_string(&self) -> Option<String> {
        match self {
            OJson::Null => Some(String::new()),
            OJson::Bool(b) => Some(if *b { "1".into() } else { String::new() }),
            OJson::Num(n) => Some(n.to_string()),
            OJson::Str(s) => Some(s.clone()),
            OJson::Arr(_) | OJson::Obj(_) => None,
        }
    }

    /// An integer given as a JSON number or a numeric string (WordPress accepts both).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            OJson::Num(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
            OJson::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        self.as_i64().and_then(|n| u64::try_from(n).ok())
    }

    /// A boolean the way `rest_sanitize_boolean` reads it.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            OJson::Bool(b) => Some(*b),
            OJson::Num(n) => n.as_i64().map(|n| n != 0),
            OJson::Str(s) => match s.to_ascii_lowercase().as_str() {
                "" | "0" | "false" => Some(false),
                "1" | "true" => Some(true),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn as_decimal(&self) -> Option<rust_decimal::Decimal> {
        match self {
            OJson::Num(n) => n.to_string().parse().ok(),
            OJson::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[OJson]> {
        match self {
            OJson::Arr(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[(String, OJson)]> {
        match self {
            OJson::Obj(pairs) => Some(pairs),
            _ => None,
        }
    }

    /// Keeps only the named top-level keys (`_fields`); `a.b` keeps `a`.
    pub fn retain_fields(self, fields: &[&str]) -> OJson {
        match self {
            OJson::Obj(pairs) => OJson::Obj(
                pairs
                    .into_iter()
                    .filter(|(k, _)| fields.iter().any(|f| f.split('.').next() == Some(k.as_str())))
                    .collect(),
            ),
            other => other,
        }
    }

    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_slice(&to_php_json(self)).expect("our own JSON parses")
    }

    /// Name of the JSON type, for structural comparisons.
    pub fn type_name(&self) -> &'static str {
        match self {
            OJson::Null => "null",
            OJson::Bool(_) => "boolean",
            OJson::Num(_) => "number",
            OJson::Str(_) => "string",
            OJson::Arr(_) => "array",
            OJson::Obj(_) => "object",
        }
    }
}

impl From<&str> for OJson {
    fn from(s: &str) -> OJson {
        OJson::Str(s.to_owned())
    }
}

impl From<String> for OJson {
    fn from(s: String) -> OJson {
        OJson::Str(s)
    }
}

impl Serialize for OJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            OJson::Null => s.serialize_unit(),
            OJson::Bool(b) => s.serialize_bool(*b),
            OJson::Num(n) => n.serialize(s),
            OJson::Str(v) => s.serialize_str(v),
            OJson::Arr(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            OJson::Obj(pairs) => {
                let mut map = s.serialize_map(Some(pairs.len()))?;
                for (k, v) in pairs {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for OJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<OJson, D::Error> {
        d.deserialize_any(OJsonVisitor)
    }
}

struct OJsonVisitor;

/// serde_json's private name for a number kept as text (`arbitrary_precision`).
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

impl<'de> Visitor<'de> for OJsonVisitor {
    type Value = OJson;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<OJson, E> {
        Ok(OJson::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<OJson, E> {
        Ok(OJson::Num(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<OJson, E> {
        Ok(OJson::Num(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<OJson, E> {
        serde_json::Number::from_f64(v).map(OJson::Num).ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<OJson, E> {
        Ok(OJson::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<OJson, E> {
        Ok(OJson::Str(v))
    }

    fn visit_unit<E>(self) -> Result<OJson, E> {
        Ok(OJson::Null)
    }

    fn visit_none<E>(self) -> Result<OJson, E> {
        Ok(OJson::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<OJson, D::Error> {
        OJson::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OJson, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(OJson::Arr(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OJson, A::Error> {
        let mut pairs: Vec<(String, OJson)> = Vec::new();
        while let Some(k) = map.next_key::<String>()? {
            // With serde_json's `arbitrary_precision` (on in this workspace) a number that is not
            // an integer, such as 3.0 or 12.50, arrives as this one-entry map holding its text.
            if k == NUMBER_TOKEN && pairs.is_empty() {
                let text: String = map.next_value()?;
                return text.parse::<serde_json::Number>().map(OJson::Num).map_err(de::Error::custom);
            }
            let v: OJson = map.next_value()?;
            // PHP arrays keep the first position of a repeated key and the last value.
            match pairs.iter_mut().find(|(key, _)| *key == k) {
                Some(slot) => slot.1 = v,
                None => pairs.push((k, v)),
            }
        }
        Ok(OJson::Obj(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slashes_and_non_ascii_are_escaped_like_php() {
        let v = OJson::obj([("name", OJson::str("Tee – Blue &amp; Red")), ("url", OJson::str("http://x/y"))]);
        assert_eq!(
            String::from_utf8(to_php_json(&v)).unwrap(),
            r#"{"name":"Tee \u2013 Blue &amp; Red","url":"http:\/\/x\/y"}"#
        );
        assert_eq!(String::from_utf8(to_php_json("😀")).unwrap(), r#""\ud83d\ude00""#);
    }

    #[test]
    fn decimals_are_numbers_like_php_floats() {
        let v = OJson::parse(br#"{"a":3.0,"b":12.50,"c":1.5,"d":7}"#).unwrap();
        assert_eq!(v.get("a").and_then(OJson::as_i64), Some(3));
        assert_eq!(v.get("c").and_then(OJson::as_i64), None);
        assert!(matches!(v.get("b"), Some(OJson::Num(_))), "{v:?}");
        assert_eq!(v.get("d").and_then(OJson::as_i64), Some(7));
        assert_eq!(to_php_json(&v), br#"{"a":3.0,"b":12.50,"c":1.5,"d":7}"#);
    }

    #[test]
    fn objects_keep_document_order() {
        let v = OJson::parse(br#"{"z":1,"a":{"y":true,"b":null}}"#).unwrap();
        assert_eq!(to_php_json(&v), br#"{"z":1,"a":{"y":true,"b":null}}"#);
    }
}
