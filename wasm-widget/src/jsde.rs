//! The API's answers (already JavaScript objects from `Response.json()`) read straight into the
//! `wns-api-types` structs: a serde `Deserializer` over a `JsValue`.
//!
//! Why not serde-wasm-bindgen: its errors are formatted eagerly (`invalid type: floating point
//! 1.5, expected …`), and that one `f64` `Display` pulls ~16 KB of float printing into the wasm,
//! with serde-wasm-bindgen's own 27 KB; together a fifth of the size budget. The widget needs no
//! message — an answer that is not what the API documents is "the sync service answered
//! wrongly" — so this deserializer's error is a unit, nothing is ever formatted, and the linker
//! drops the printing. The JSON shapes are only those of `wns-api-types`: structs, unit enums as
//! strings, options, vectors, strings and whole numbers.

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor, value::StringDeserializer,
};
use wasm_bindgen::{JsCast, JsValue};

/// The answer was not the documented shape.
#[derive(Debug)]
pub struct Mismatch;

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the answer does not have the documented shape")
    }
}

impl std::error::Error for Mismatch {}

impl de::Error for Mismatch {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Mismatch
    }
}

pub fn from_value<T: DeserializeOwned>(value: JsValue) -> Result<T, Mismatch> {
    T::deserialize(Js(value))
}

/// The largest integer a JavaScript number holds exactly.
const SAFE: f64 = 9_007_199_254_740_991.0;

struct Js(JsValue);

enum Shape {
    Unit,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Text(String),
    List(js_sys::Array),
    Object(JsValue, js_sys::Array),
    Other,
}

impl Shape {
    #[inline(never)]
    fn of(v: JsValue) -> Shape {
        if v.is_null() || v.is_undefined() {
            return Shape::Unit;
        }
        if let Some(b) = v.as_bool() {
            return Shape::Bool(b);
        }
        if let Some(n) = v.as_f64() {
            if n.fract() != 0.0 || n.abs() > SAFE {
                return Shape::Float(n);
            }
            return if n < 0.0 { Shape::Signed(n as i64) } else { Shape::Unsigned(n as u64) };
        }
        if let Some(s) = v.as_string() {
            return Shape::Text(s);
        }
        if js_sys::Array::is_array(&v) {
            return Shape::List(v.unchecked_into());
        }
        if v.is_object() {
            let keys = js_sys::Object::keys(v.unchecked_ref::<js_sys::Object>());
            return Shape::Object(v, keys);
        }
        Shape::Other
    }
}

impl<'de> de::Deserializer<'de> for Js {
    type Error = Mismatch;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        // What the value is, found once outside the generic part: this body is copied for every
        // type read, so the less it holds the smaller the wasm.
        match Shape::of(self.0) {
            Shape::Unit => visitor.visit_unit(),
            Shape::Bool(b) => visitor.visit_bool(b),
            Shape::Unsigned(n) => visitor.visit_u64(n),
            Shape::Signed(n) => visitor.visit_i64(n),
            Shape::Float(n) => visitor.visit_f64(n),
            Shape::Text(s) => visitor.visit_string(s),
            Shape::List(items) => visitor.visit_seq(Items { items, next: 0 }),
            Shape::Object(object, keys) => visitor.visit_map(Fields { object, keys, next: 0, value: None }),
            // A function (the plugin's translator in the same object), a symbol: nothing a field
            // reads, so a unit, which a field expecting data refuses and an ignored one skips.
            Shape::Other => visitor.visit_unit(),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        if self.0.is_null() || self.0.is_undefined() { visitor.visit_none() } else { visitor.visit_some(self) }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        // The API's enums are unit variants written as strings (`"posted"`).
        let name = self.0.as_string().ok_or(Mismatch)?;
        visitor.visit_enum(IntoDeserializer::<Mismatch>::into_deserializer(name))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Mismatch> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct Items {
    items: js_sys::Array,
    next: u32,
}

impl<'de> SeqAccess<'de> for Items {
    type Error = Mismatch;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Mismatch> {
        if self.next >= self.items.length() {
            return Ok(None);
        }
        let item = self.items.get(self.next);
        self.next += 1;
        seed.deserialize(Js(item)).map(Some)
    }
}

struct Fields {
    object: JsValue,
    keys: js_sys::Array,
    next: u32,
    value: Option<JsValue>,
}

impl<'de> MapAccess<'de> for Fields {
    type Error = Mismatch;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Mismatch> {
        if self.next >= self.keys.length() {
            return Ok(None);
        }
        let key = self.keys.get(self.next);
        self.next += 1;
        self.value = Some(js_sys::Reflect::get(&self.object, &key).map_err(|_| Mismatch)?);
        let name: StringDeserializer<Mismatch> = key.as_string().ok_or(Mismatch)?.into_deserializer();
        seed.deserialize(name).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Mismatch> {
        seed.deserialize(Js(self.value.take().ok_or(Mismatch)?))
    }
}
