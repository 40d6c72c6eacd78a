//! JSON text in and out of the client's [`Value`] (`protocol::value`, re-exported
//! here), without serde's machinery.
//!
//! serde_json is only a dev-dependency (tests and the fuzz targets compare with it
//! through conversions): its `Value` with `preserve_order` brought indexmap, hashbrown
//! and a hasher, and its parser and serializer are generic serde code (a
//! `Deserializer` and visitors per target type, error values that format floats,
//! `std::io` errors for the writer). This module is
//! the client's one reader and writer: a byte-level parser that builds `Value`s
//! directly, a scanner that hands out members and raw value texts (the page transcoder
//! copies field values as text), and a compact writer. It accepts exactly what
//! serde_json accepts (RFC 8259: no trailing commas, comments, lone surrogates or raw
//! control characters in strings; at most 127 nested arrays/objects; numbers out of
//! the f64 range rejected), builds the same values (integers as `u64`/`i64` when they
//! fit, `-0` as a float; a repeated key keeps its first place and its last value) and
//! writes the same text as `serde_json::to_string`; the tests below compare both on
//! every case. Floats are read correctly rounded (see
//! [`read_float`]).

use std::borrow::Cow;

pub use super::value::{Map, Number, Value};

/// Arrays and objects nested deeper than this are rejected (serde_json's limit), so
/// hostile input cannot exhaust the stack.
const MAX_DEPTH: u32 = 128;

/// Parses JSON text (UTF-8 bytes) into a `Value`. `None` for anything that is not one
/// complete JSON value, surrounded by whitespace at most.
pub fn parse(bytes: &[u8]) -> Option<Value> {
    let mut r = Reader::new(std::str::from_utf8(bytes).ok()?);
    let v = r.value()?;
    r.end()?;
    Some(v)
}

/// A value as compact JSON text (what `serde_json::to_string` writes).
pub fn text(v: &Value) -> String {
    let mut out = String::new();
    write(&mut out, v);
    out
}

/// Appends a number as serde_json writes it: integers with itoa, floats (always
/// finite in a `Number`) as zmij's shortest round-trip text, the very calls of
/// serde_json's `Number` `Display`, without its `Formatter`.
pub fn write_number(out: &mut String, n: &Number) {
    if let Some(u) = n.as_u64() {
        out.push_str(itoa::Buffer::new().format(u));
    } else if let Some(i) = n.as_i64() {
        out.push_str(itoa::Buffer::new().format(i));
    } else if let Some(f) = n.as_f64() {
        out.push_str(zmij::Buffer::new().format_finite(f));
    }
}

/// Appends a value as compact JSON text.
pub fn write(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                write(out, item);
            }
            out.push('}');
        }
    }
}

/// Appends a string as a JSON string literal, escaped as serde_json escapes.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        // Every escaped byte is ASCII, so these are char boundaries.
        out.push_str(s.get(start..i).unwrap_or_default());
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// The f64 nearest to a JSON number text (already checked against the grammar), or
/// an infinity when it is out of range. In the .wasm this is the engine's `parseFloat`
/// (correctly rounded like Rust's, and the module then carries no float parser: Rust's
/// is ~5 KB); natively Rust's `str::parse`. The one JS call in `protocol`: a pure
/// function, no I/O.
fn read_float(text: &str) -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::parse_float(text)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        text.parse().unwrap_or(f64::NAN)
    }
}

/// A cursor over JSON text. Every method returns `None` on malformed input and then
/// the reader is spent (its position is unspecified).
pub struct Reader<'a> {
    text: &'a str,
    pos: usize,
    depth: u32,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Reader {
            text,
            pos: 0,
            depth: 0,
        }
    }

    fn byte(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// The next byte after whitespace, not consumed.
    pub fn peek(&mut self) -> Option<u8> {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.byte() {
            self.pos += 1;
        }
        self.byte()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// `Some` when only whitespace is left.
    pub fn end(&mut self) -> Option<()> {
        self.peek().is_none().then_some(())
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth < MAX_DEPTH).then_some(())
    }

    /// Reads an object, calling `member` with each key (unescaped) in order; `member`
    /// must read the member's value.
    pub fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, Cow<'a, str>) -> Option<()>,
    ) -> Option<()> {
        if !self.eat(b'{') {
            return None;
        }
        self.enter()?;
        if !self.eat(b'}') {
            loop {
                if self.peek()? != b'"' {
                    return None;
                }
                let key = self.string()?;
                if !self.eat(b':') {
                    return None;
                }
                member(self, key)?;
                if self.eat(b'}') {
                    break;
                }
                if !self.eat(b',') {
                    return None;
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// Reads an array, calling `item` once per element; `item` must read the element.
    pub fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        if !self.eat(b'[') {
            return None;
        }
        self.enter()?;
        if !self.eat(b']') {
            loop {
                item(self)?;
                if self.eat(b']') {
                    break;
                }
                if !self.eat(b',') {
                    return None;
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// Reads one value and returns its text as written (validated, without the
    /// surrounding whitespace).
    pub fn raw(&mut self) -> Option<&'a str> {
        self.peek()?;
        let start = self.pos;
        match self.byte()? {
            b'{' => self.object(|r, _| r.raw().map(drop))?,
            b'[' => self.array(|r| r.raw().map(drop))?,
            b'"' => drop(self.string()?),
            _ => drop(self.scalar()?),
        }
        self.text.get(start..self.pos)
    }

    /// Reads one value into a `Value`.
    pub fn value(&mut self) -> Option<Value> {
        Some(match self.peek()? {
            b'{' => {
                let mut members = Vec::new();
                self.object(|r, key| {
                    let v = r.value()?;
                    members.push((key.into_owned(), v));
                    Some(())
                })?;
                Value::Object(Map::from_members(members))
            }
            b'[' => {
                let mut items = Vec::new();
                self.array(|r| {
                    items.push(r.value()?);
                    Some(())
                })?;
                Value::Array(items)
            }
            b'"' => Value::String(self.string()?.into_owned()),
            _ => self.scalar()?,
        })
    }

    /// `true`, `false`, `null` or a number.
    fn scalar(&mut self) -> Option<Value> {
        let rest = self.text.as_bytes().get(self.pos..)?;
        for (word, v) in [
            (&b"true"[..], Value::Bool(true)),
            (b"false", Value::Bool(false)),
            (b"null", Value::Null),
        ] {
            if rest.starts_with(word) {
                self.pos += word.len();
                return Some(v);
            }
        }
        self.number().map(Value::Number)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.byte() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`: integers that fit become
    /// `u64`/`i64` (`-0` a float, as serde_json reads it), others `f64`; a float
    /// outside the f64 range is an error.
    fn number(&mut self) -> Option<Number> {
        let start = self.pos;
        let negative = self.byte() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let int_start = self.pos;
        let int_len = self.digits();
        if int_len == 0 || (int_len > 1 && self.text.as_bytes().get(int_start) == Some(&b'0')) {
            return None;
        }
        let mut float = false;
        if self.byte() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return None;
            }
            float = true;
        }
        if let Some(b'e' | b'E') = self.byte() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.byte() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return None;
            }
            float = true;
        }
        let text = self.text.get(start..self.pos)?;
        if !float {
            let digits = self.text.get(int_start..self.pos)?;
            if let Some(n) = digits.bytes().try_fold(0u64, |n, d| {
                n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            }) {
                if !negative {
                    return Some(n.into());
                }
                if n != 0 {
                    if let Some(neg) = 0i64.checked_sub_unsigned(n) {
                        return Some(neg.into());
                    }
                }
            }
        }
        Number::from_f64(read_float(text))
    }

    /// Reads a string literal, unescaped (borrowed when it has no escapes).
    fn string(&mut self) -> Option<Cow<'a, str>> {
        if self.byte() != Some(b'"') {
            return None;
        }
        self.pos += 1;
        let mut start = self.pos;
        let mut owned: Option<String> = None;
        loop {
            let b = self.byte()?;
            match b {
                b'"' => {
                    let tail = self.text.get(start..self.pos)?;
                    self.pos += 1;
                    return Some(match owned {
                        None => Cow::Borrowed(tail),
                        Some(mut s) => {
                            s.push_str(tail);
                            Cow::Owned(s)
                        }
                    });
                }
                b'\\' => {
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(self.text.get(start..self.pos)?);
                    self.pos += 1;
                    let c = match self.byte()? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            self.pos += 1;
                            let hi = self.hex4()?;
                            let code = match hi {
                                0xD800..=0xDBFF => {
                                    if self.text.as_bytes().get(self.pos..self.pos + 2)
                                        != Some(&b"\\u"[..])
                                    {
                                        return None;
                                    }
                                    self.pos += 2;
                                    let lo = self.hex4()?;
                                    if !(0xDC00..=0xDFFF).contains(&lo) {
                                        return None;
                                    }
                                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                }
                                0xDC00..=0xDFFF => return None,
                                _ => hi,
                            };
                            // hex4 left the position after the escape.
                            self.pos -= 1;
                            char::from_u32(code)?
                        }
                        _ => return None,
                    };
                    s.push(c);
                    self.pos += 1;
                    start = self.pos;
                }
                0..=0x1f => return None,
                _ => self.pos += 1,
            }
        }
    }

    /// Four hex digits.
    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.pos..self.pos + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += 4;
        u32::from_str_radix(digits, 16).ok()
    }
}

/// A value that becomes a `Value` in [`json!`] (what `serde_json::to_value` does for
/// the same types, without serde's `Serializer`; non-finite floats become `null`).
pub trait ToJson {
    /// This value as JSON.
    fn to_json(&self) -> Value;
}

impl ToJson for Value {
    fn to_json(&self) -> Value {
        self.clone()
    }
}

impl ToJson for str {
    fn to_json(&self) -> Value {
        Value::String(self.to_owned())
    }
}

impl ToJson for String {
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
}

impl ToJson for bool {
    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }
}

impl ToJson for f64 {
    fn to_json(&self) -> Value {
        Number::from_f64(*self).map_or(Value::Null, Value::Number)
    }
}

macro_rules! int_to_json {
    ($($t:ty),*) => {$(
        impl ToJson for $t {
            fn to_json(&self) -> Value {
                Value::Number((*self).into())
            }
        }
    )*};
}
int_to_json!(u8, u16, u32, u64, usize, i32, i64);

impl ToJson for Map<String, Value> {
    fn to_json(&self) -> Value {
        Value::Object(self.clone())
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> Value {
        self.as_ref().map_or(Value::Null, T::to_json)
    }
}

impl<T: ToJson> ToJson for [T] {
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(T::to_json).collect())
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> Value {
        self.as_slice().to_json()
    }
}

impl<T: ToJson + ?Sized> ToJson for &T {
    fn to_json(&self) -> Value {
        (**self).to_json()
    }
}

/// Builds a `Value` with `serde_json::json!`'s syntax (objects with literal keys,
/// arrays, `null`, any [`ToJson`] expression), without `serde_json::to_value`, which
/// brings serde's `Serializer` and a `Debug`-formatted error into the .wasm.
macro_rules! json {
    (null) => {
        $crate::protocol::json::Value::Null
    };
    ([ $($body:tt)* ]) => {
        $crate::protocol::json::json!(@array [] () $($body)*)
    };
    ({ $($body:tt)* }) => {{
        #[allow(unused_mut)]
        let mut map = $crate::protocol::json::Map::new();
        $crate::protocol::json::json!(@object map $($body)*);
        $crate::protocol::json::Value::Object(map)
    }};
    // Array elements: gather one element's tokens up to a comma at this level.
    (@array [$($done:tt)*] ()) => {
        $crate::protocol::json::Value::Array(::std::vec![$($done)*])
    };
    (@array [$($done:tt)*] ($($elem:tt)+)) => {
        $crate::protocol::json::Value::Array(::std::vec![$($done)* $crate::protocol::json::json!($($elem)+)])
    };
    (@array [$($done:tt)*] ($($elem:tt)+) , $($rest:tt)*) => {
        $crate::protocol::json::json!(@array [$($done)* $crate::protocol::json::json!($($elem)+),] () $($rest)*)
    };
    (@array [$($done:tt)*] ($($elem:tt)*) $next:tt $($rest:tt)*) => {
        $crate::protocol::json::json!(@array [$($done)*] ($($elem)* $next) $($rest)*)
    };
    // Object members: `"key": value` with a literal key.
    (@object $m:ident) => {};
    (@object $m:ident $key:literal : $($rest:tt)+) => {
        $crate::protocol::json::json!(@member $m $key () $($rest)+);
    };
    (@member $m:ident $key:literal ($($val:tt)+)) => {
        $m.insert(::std::string::String::from($key), $crate::protocol::json::json!($($val)+));
    };
    (@member $m:ident $key:literal ($($val:tt)+) , $($rest:tt)*) => {
        $m.insert(::std::string::String::from($key), $crate::protocol::json::json!($($val)+));
        $crate::protocol::json::json!(@object $m $($rest)*);
    };
    (@member $m:ident $key:literal ($($val:tt)*) $next:tt $($rest:tt)*) => {
        $crate::protocol::json::json!(@member $m $key ($($val)* $next) $($rest)*);
    };
    ($other:expr) => {
        $crate::protocol::json::ToJson::to_json(&$other)
    };
}
pub(crate) use json;

/// Tests: a value written with `serde_json::json!`'s full syntax, as our [`Value`].
#[cfg(test)]
macro_rules! sj {
    ($($t:tt)+) => {
        $crate::protocol::json::Value::from(::serde_json::json!($($t)+))
    };
}
#[cfg(test)]
pub(crate) use sj;

#[cfg(test)]
mod tests {
    use super::*;

    /// Our reader against serde_json's on the same text: same value (or both reject),
    /// and the same text written back.
    fn same(text: &str) {
        let ours = parse(text.as_bytes());
        let theirs = serde_json::from_str::<Value>(text).ok();
        assert_eq!(ours, theirs, "parse of {text:?}");
        if let Some(v) = &theirs {
            assert_eq!(
                super::text(v),
                serde_json::to_string(v).unwrap(),
                "write of {text:?}"
            );
            // -0.0 == 0.0, so compare what each wrote too.
            if let Some(o) = &ours {
                assert_eq!(super::text(o), super::text(v), "value of {text:?}");
            }
        }
    }

    #[test]
    fn agrees_with_serde_json() {
        let cases = [
            "null",
            "true",
            "false",
            " \t\r\n1 ",
            "0",
            "-0",
            "-0.0",
            "1.5",
            "-12",
            "1e3",
            "1E+3",
            "1e-3",
            "2.5e10",
            "0.1",
            "123456789.123456789",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "1e308",
            "1e309",
            "-1e400",
            "1e-400",
            "5e-324",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "+1",
            "0x10",
            "NaN",
            "Infinity",
            "tru",
            "nul",
            "\"\"",
            "\"abc\"",
            r#""a\"b\\c\/d\b\f\n\r\t""#,
            r#""\u00e9\u0000\u001F""#,
            r#""\ud83d\ude00""#,
            r#""\ud83d""#,
            r#""\ude00""#,
            r#""\ud83dx""#,
            r#""\ud83d\u0041""#,
            r#""\x""#,
            r#""\u12""#,
            r#""\u12G4""#,
            "\"tab\there\"",
            "\"ünïcødé ✓ 😀\"",
            "\"\u{7f}\"",
            "[]",
            "[ ]",
            "[1,2,3]",
            "[1,]",
            "[,1]",
            "[1 2]",
            "{}",
            "{ }",
            r#"{"a":1}"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{a:1}"#,
            r#"{"a":1,"a":2,"b":3}"#,
            r#"{"b":1,"a":{"c":[true,null,{"d":"e"}]}}"#,
            r#"{"k\u00e9y":"v"}"#,
            r#"{"x":1}{"#,
            "[1]]",
            "",
            " ",
            "[",
            "{",
            "\"abc",
            "1 2",
            "// c\n1",
            "[1,2,3]\n",
            r#"{"a":[],"b":{}}"#,
            "3.0",
            "1.0e2",
            "-1.5E-2",
            "100000000000000000000",
            "12345678901234567890123",
        ];
        for c in cases {
            same(c);
        }
    }

    #[test]
    fn control_characters_and_non_ascii_written_as_serde_json_writes_them() {
        let all: String = (0u8..0x80).map(char::from).chain("é€😀".chars()).collect();
        let v = Value::String(all.clone());
        assert_eq!(text(&v), serde_json::to_string(&v).unwrap());
        assert_eq!(parse(text(&v).as_bytes()), Some(v));
        let mut o = Map::new();
        o.insert(all, sj!([1.25, -3, u64::MAX, null]));
        let o = Value::Object(o);
        assert_eq!(text(&o), serde_json::to_string(&o).unwrap());
    }

    #[test]
    fn nesting_is_limited_like_serde_json() {
        for depth in [126, 127, 128, 129, 10_000] {
            same(&("[".repeat(depth) + &"]".repeat(depth)));
            let obj = "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth);
            same(&obj);
        }
    }

    #[test]
    fn invalid_utf8_is_rejected() {
        assert_eq!(parse(b"\"\xff\""), None);
        assert!(serde_json::from_slice::<Value>(b"\"\xff\"").is_err());
    }

    #[test]
    fn floats_round_trip_exactly() {
        // Correctly rounded reads: writing a read float gives the shortest text back.
        for t in [
            "0.1",
            "0.3",
            "2.2250738585072014e-308",
            "1.7976931348623157e308",
            "9007199254740993.0",
        ] {
            let v = parse(t.as_bytes()).unwrap();
            let f: f64 = t.parse().unwrap();
            assert_eq!(v.as_f64(), Some(f), "{t}");
        }
        assert_eq!(text(&parse(b"0.1").unwrap()), "0.1");
    }

    #[test]
    fn raw_values_are_the_text_as_written() {
        let mut r = Reader::new(r#" { "a" : [1, {"b": "c"}] , "d\n": "\u0041" } "#);
        let mut seen = Vec::new();
        r.object(|r, k| {
            seen.push((k.into_owned(), r.raw()?.to_owned()));
            Some(())
        })
        .unwrap();
        r.end().unwrap();
        assert_eq!(
            seen,
            [
                ("a".to_owned(), r#"[1, {"b": "c"}]"#.to_owned()),
                ("d\n".to_owned(), r#""\u0041""#.to_owned())
            ]
        );
    }

    #[test]
    fn json_macro_builds_what_serde_json_builds() {
        let name: Option<&str> = Some("n");
        let none: Option<String> = None;
        let ids: Vec<u64> = vec![1, 2];
        let v = Value::Bool(true);
        let mut m = Map::new();
        m.insert("k".into(), Value::Null);
        let ours = json!({
            "a": 1, "b": [1, -2, "x", null, [], {}], "c": { "d": name, "e": none },
            "f": ids, "g": v.clone(), "h": m.clone(), "i": 1.5, "j": f64::NAN,
            "k": ids.iter().map(|i| json!({"id": i})).collect::<Vec<_>>(), "l": [v.clone(), 3u32],
            "m": true, "n": "s".to_owned(),
        });
        let theirs = serde_json::json!({
            "a": 1, "b": [1, -2, "x", null, [], {}], "c": { "d": name, "e": none },
            "f": ids, "g": v.clone(), "h": serde_json::Map::from(m), "i": 1.5, "j": f64::NAN,
            "k": ids.iter().map(|i| serde_json::json!({"id": i})).collect::<Vec<_>>(), "l": [v, 3u32],
            "m": true, "n": "s".to_owned(),
        });
        assert_eq!(text(&ours), text(&Value::from(theirs)));
        assert_eq!(json!(null), Value::Null);
        assert_eq!(json!([]), sj!([]));
        assert_eq!(json!({}), sj!({}));
    }
}
