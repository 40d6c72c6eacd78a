//! The client's JSON data type: [`Value`], an insertion-ordered [`Map`] and a
//! [`Number`], with the part of `serde_json`'s API the client uses (same names and
//! semantics), so the .wasm carries neither serde_json's `Value` code nor
//! `indexmap`/`hashbrown` and a hasher.
//!
//! A [`Map`] is a `Vec` of members with linear lookup: the objects the client builds and
//! reads are small (a record's fields, an error, a request body). The reader
//! ([`super::json`]) builds big objects without a quadratic duplicate check.
//! Differences from `serde_json` with `preserve_order`: [`Map::remove`] keeps the order
//! of the other members (serde_json's swaps the last member into the hole).
//! Equality of objects ignores member order, as serde_json's does.

use std::ops;

/// A JSON number: an unsigned or negative integer when the text was one that fits,
/// otherwise a finite `f64` (what `serde_json::Number` keeps).
#[derive(Clone, Copy, Debug)]
pub struct Number(N);

#[derive(Clone, Copy, Debug)]
enum N {
    /// Always ≥ 0.
    PosInt(u64),
    /// Always < 0.
    NegInt(i64),
    /// Always finite.
    Float(f64),
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (self.0, other.0) {
            (N::PosInt(a), N::PosInt(b)) => a == b,
            (N::NegInt(a), N::NegInt(b)) => a == b,
            (N::Float(a), N::Float(b)) => a == b,
            _ => false,
        }
    }
}

impl Number {
    /// A float as a number; `None` when it is not finite (JSON has no NaN/infinity).
    pub fn from_f64(f: f64) -> Option<Number> {
        f.is_finite().then_some(Number(N::Float(f)))
    }

    /// The value as `u64` when it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self.0 {
            N::PosInt(n) => Some(n),
            _ => None,
        }
    }

    /// The value as `i64` when it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            N::PosInt(n) => i64::try_from(n).ok(),
            N::NegInt(n) => Some(n),
            N::Float(_) => None,
        }
    }

    /// The value as `f64` (integers converted, possibly rounded).
    pub fn as_f64(&self) -> Option<f64> {
        Some(match self.0 {
            N::PosInt(n) => n as f64,
            N::NegInt(n) => n as f64,
            N::Float(f) => f,
        })
    }

    /// Whether it is a non-negative integer (fits `u64`).
    pub fn is_u64(&self) -> bool {
        matches!(self.0, N::PosInt(_))
    }

    /// Whether it is an integer that fits `i64`.
    pub fn is_i64(&self) -> bool {
        self.as_i64().is_some()
    }

    /// Whether it is a float (not an integer as read or built).
    pub fn is_f64(&self) -> bool {
        matches!(self.0, N::Float(_))
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Self {
        Number(N::PosInt(n))
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Self {
        Number(if n < 0 {
            N::NegInt(n)
        } else {
            N::PosInt(n.unsigned_abs())
        })
    }
}

macro_rules! number_from {
    ($($t:ty => $via:ty),*) => {$(
        impl From<$t> for Number {
            fn from(n: $t) -> Self {
                <$via>::from(n).into()
            }
        }
        impl From<$t> for Value {
            fn from(n: $t) -> Self {
                Value::Number(n.into())
            }
        }
    )*};
}
number_from!(u8 => u64, u16 => u64, u32 => u64, i8 => i64, i16 => i64, i32 => i64);

impl From<usize> for Number {
    fn from(n: usize) -> Self {
        // usize is at most 64 bits on every target.
        Number(N::PosInt(n as u64))
    }
}

/// Any JSON value.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, members in insertion order.
    Object(Map<String, Value>),
}

/// The `Null` that indexing returns for a missing member.
static NULL: Value = Value::Null;

impl Value {
    /// The member `index` of an object (a `&str`) or element of an array (a `usize`).
    pub fn get<I: ValueIndex>(&self, index: I) -> Option<&Value> {
        index.index_into(self)
    }

    /// Mutable [`Value::get`].
    pub fn get_mut<I: ValueIndex>(&mut self, index: I) -> Option<&mut Value> {
        index.index_into_mut(self)
    }

    /// Whether it is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether it is a boolean.
    pub fn is_boolean(&self) -> bool {
        matches!(self, Value::Bool(_))
    }

    /// Whether it is a number.
    pub fn is_number(&self) -> bool {
        matches!(self, Value::Number(_))
    }

    /// Whether it is a string.
    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }

    /// Whether it is an array.
    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }

    /// Whether it is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    /// Whether it is a non-negative integer.
    pub fn is_u64(&self) -> bool {
        matches!(self, Value::Number(n) if n.is_u64())
    }

    /// Whether it is an integer that fits `i64`.
    pub fn is_i64(&self) -> bool {
        matches!(self, Value::Number(n) if n.is_i64())
    }

    /// Whether it is a float.
    pub fn is_f64(&self) -> bool {
        matches!(self, Value::Number(n) if n.is_f64())
    }

    /// The boolean, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The string, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if it is one.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// [`Number::as_u64`] of a number.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_number()?.as_u64()
    }

    /// [`Number::as_i64`] of a number.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number()?.as_i64()
    }

    /// [`Number::as_f64`] of a number.
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number()?.as_f64()
    }

    /// The elements, if it is an array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Mutable [`Value::as_array`].
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The members, if it is an object.
    pub fn as_object(&self) -> Option<&Map<String, Value>> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// Mutable [`Value::as_object`].
    pub fn as_object_mut(&mut self) -> Option<&mut Map<String, Value>> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// Takes the value out, leaving `null`.
    pub fn take(&mut self) -> Value {
        std::mem::take(self)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Number(n.into())
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n.into())
    }
}

impl From<usize> for Value {
    fn from(n: usize) -> Self {
        Value::Number(n.into())
    }
}

/// A float; `null` when it is not finite (as serde_json converts).
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(a: Vec<Value>) -> Self {
        Value::Array(a)
    }
}

impl From<Map<String, Value>> for Value {
    fn from(o: Map<String, Value>) -> Self {
        Value::Object(o)
    }
}

impl FromIterator<Value> for Value {
    fn from_iter<T: IntoIterator<Item = Value>>(iter: T) -> Self {
        Value::Array(iter.into_iter().collect())
    }
}

/// `value == "text"`, `value == 3`, `value == true` (serde_json's comparisons: equal
/// when the value is that kind and that value).
macro_rules! eq_prim {
    ($($t:ty => |$v:ident, $o:ident| $e:expr),* $(,)?) => {$(
        impl PartialEq<$t> for Value {
            fn eq(&self, $o: &$t) -> bool {
                let $v = self;
                $e
            }
        }
        impl PartialEq<Value> for $t {
            fn eq(&self, v: &Value) -> bool {
                v == self
            }
        }
    )*};
}
eq_prim!(
    str => |v, o| v.as_str() == Some(o),
    &str => |v, o| v.as_str() == Some(*o),
    String => |v, o| v.as_str() == Some(o.as_str()),
    bool => |v, o| v.as_bool() == Some(*o),
    f64 => |v, o| v.as_f64() == Some(*o),
    u64 => |v, o| v.as_u64() == Some(*o),
    i64 => |v, o| v.as_i64() == Some(*o),
);
macro_rules! eq_int {
    ($($t:ty => $via:ident as $w:ty),*) => {$(
        impl PartialEq<$t> for Value {
            fn eq(&self, o: &$t) -> bool {
                self.$via() == <$w>::try_from(*o).ok()
            }
        }
        impl PartialEq<Value> for $t {
            fn eq(&self, v: &Value) -> bool {
                v == self
            }
        }
    )*};
}
eq_int!(u8 => as_u64 as u64, u16 => as_u64 as u64, u32 => as_u64 as u64, usize => as_u64 as u64,
    i8 => as_i64 as i64, i16 => as_i64 as i64, i32 => as_i64 as i64, isize => as_i64 as i64);

/// What indexes a [`Value`]: `&str`/`String` (object members) or `usize` (array
/// elements), as in serde_json.
pub trait ValueIndex {
    /// The indexed value, if present.
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value>;
    /// Mutable [`ValueIndex::index_into`].
    fn index_into_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value>;
    /// The indexed value for `v[index] = …`: a missing object member is inserted as
    /// `null` (a `null` becomes an empty object first).
    ///
    /// # Panics
    /// When `v` is not an object (or `null`) for a key, or the array index is out of
    /// bounds: `serde_json`'s `IndexMut` contract. Compiled for tests only, so the
    /// client has no panicking index.
    #[cfg(test)]
    fn index_or_insert<'v>(&self, v: &'v mut Value) -> &'v mut Value;
}

impl ValueIndex for usize {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        v.as_array()?.get(*self)
    }

    fn index_into_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value> {
        v.as_array_mut()?.get_mut(*self)
    }

    #[cfg(test)]
    fn index_or_insert<'v>(&self, v: &'v mut Value) -> &'v mut Value {
        match v.as_array_mut().and_then(|a| a.get_mut(*self)) {
            Some(item) => item,
            None => panic!("index {self} of a value that is not an array that long"),
        }
    }
}

impl ValueIndex for str {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        v.as_object()?.get(self)
    }

    fn index_into_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value> {
        v.as_object_mut()?.get_mut(self)
    }

    #[cfg(test)]
    fn index_or_insert<'v>(&self, v: &'v mut Value) -> &'v mut Value {
        if v.is_null() {
            *v = Value::Object(Map::new());
        }
        let Value::Object(o) = v else {
            panic!("index {self:?} of a value that is not an object");
        };
        o.entry_or_null(self)
    }
}

impl ValueIndex for String {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        self.as_str().index_into(v)
    }

    fn index_into_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value> {
        self.as_str().index_into_mut(v)
    }

    #[cfg(test)]
    fn index_or_insert<'v>(&self, v: &'v mut Value) -> &'v mut Value {
        self.as_str().index_or_insert(v)
    }
}

impl<T: ValueIndex + ?Sized> ValueIndex for &T {
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        (**self).index_into(v)
    }

    fn index_into_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value> {
        (**self).index_into_mut(v)
    }

    #[cfg(test)]
    fn index_or_insert<'v>(&self, v: &'v mut Value) -> &'v mut Value {
        (**self).index_or_insert(v)
    }
}

/// `v["key"]`, `v[0]`: `null` when missing or of another kind (never panics).
impl<I: ValueIndex> ops::Index<I> for Value {
    type Output = Value;

    fn index(&self, index: I) -> &Value {
        index.index_into(self).unwrap_or(&NULL)
    }
}

/// `v["key"] = …` (see [`ValueIndex::index_or_insert`] for when it panics).
#[cfg(test)]
impl<I: ValueIndex> ops::IndexMut<I> for Value {
    fn index_mut(&mut self, index: I) -> &mut Value {
        index.index_or_insert(self)
    }
}

/// A JSON object: members in insertion order, keys unique, looked up linearly. Only
/// `Map<String, Value>` is used (the parameters keep serde_json's spelling).
#[derive(Clone, Debug)]
pub struct Map<K, V> {
    members: Vec<(K, V)>,
}

impl Default for Map<String, Value> {
    fn default() -> Self {
        Map::new()
    }
}

/// Equal when both have the same members, in any order (serde_json's semantics).
impl PartialEq for Map<String, Value> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

/// A member as `(&key, &value)`.
type Pair<'a> = (&'a String, &'a Value);
/// A member as `(&key, &mut value)`.
type PairMut<'a> = (&'a String, &'a mut Value);

fn pair(m: &(String, Value)) -> Pair<'_> {
    (&m.0, &m.1)
}

fn pair_mut(m: &mut (String, Value)) -> PairMut<'_> {
    (&m.0, &mut m.1)
}

/// The members of a [`Map`] in order.
pub type Iter<'a> =
    std::iter::Map<std::slice::Iter<'a, (String, Value)>, fn(&(String, Value)) -> Pair<'_>>;
/// The members of a [`Map`] in order, values mutable.
pub type IterMut<'a> = std::iter::Map<
    std::slice::IterMut<'a, (String, Value)>,
    fn(&mut (String, Value)) -> PairMut<'_>,
>;

impl Map<String, Value> {
    /// An empty object.
    pub fn new() -> Self {
        Map {
            members: Vec::new(),
        }
    }

    /// An empty object with room for `n` members.
    pub fn with_capacity(n: usize) -> Self {
        Map {
            members: Vec::with_capacity(n),
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether it has no member.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.members.iter().position(|(k, _)| k == key)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.members.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Mutable [`Map::get`].
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.members
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Whether `key` is a member.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets `key` to `value`: a new key goes last, an existing one keeps its place and
    /// its old value is returned.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        match self.get_mut(&key) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                self.members.push((key, value));
                None
            }
        }
    }

    /// Appends a member whose key the caller knows is not in the map yet (no lookup).
    #[cfg(test)]
    fn push_unique(&mut self, key: String, value: Value) {
        self.members.push((key, value));
    }

    /// An object from members in order, as [`Map::insert`] one by one gives it (a
    /// repeated key keeps its first place and takes its last value), in linear time:
    /// big objects find repeated keys through a hash table of member indices, not by
    /// scanning (what the reader and [`Map::extend`] use on untrusted input).
    pub fn from_members(mut members: Vec<(String, Value)>) -> Self {
        let n = members.len();
        // Small objects (the usual ones) are scanned; the table pays from about here.
        let small = n <= 16;
        let mask = if small {
            0
        } else {
            (2 * n).next_power_of_two() - 1
        };
        let mut slots = vec![usize::MAX; if small { 0 } else { mask + 1 }];
        let mut dropped: Vec<bool> = Vec::new();
        for i in 0..n {
            let Some((key, _)) = members.get(i) else {
                break;
            };
            let first = if small {
                members.iter().take(i).position(|(k, _)| k == key)
            } else {
                let mut h = key.bytes().fold(0x811c_9dc5_u32, |h, b| {
                    (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
                }) as usize;
                loop {
                    h &= mask;
                    match slots.get(h).copied() {
                        Some(usize::MAX) => {
                            if let Some(slot) = slots.get_mut(h) {
                                *slot = i;
                            }
                            break None;
                        }
                        Some(j) if members.get(j).is_some_and(|(k, _)| k == key) => break Some(j),
                        Some(_) => h += 1,
                        None => break None,
                    }
                }
            };
            if let Some(j) = first {
                let value = members
                    .get_mut(i)
                    .map(|(_, v)| v.take())
                    .unwrap_or_default();
                if let Some((_, slot)) = members.get_mut(j) {
                    *slot = value;
                }
                dropped.resize(n, false);
                if let Some(d) = dropped.get_mut(i) {
                    *d = true;
                }
            }
        }
        if !dropped.is_empty() {
            let mut i = 0;
            members.retain(|_| {
                i += 1;
                !dropped.get(i - 1).copied().unwrap_or(false)
            });
        }
        Map { members }
    }

    /// The value of `key`, inserted as `null` when missing (for `v[key] = …` in tests).
    #[cfg(test)]
    fn entry_or_null(&mut self, key: &str) -> &mut Value {
        let i = match self.position(key) {
            Some(i) => i,
            None => {
                self.members.push((key.to_owned(), Value::Null));
                self.members.len() - 1
            }
        };
        // `i` is in bounds: found or just pushed.
        &mut self.members[i].1
    }

    /// Removes `key` and returns its value; the other members keep their order.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.position(key)?;
        Some(self.members.remove(i).1)
    }

    /// The members in order.
    pub fn iter(&self) -> Iter<'_> {
        self.members
            .iter()
            .map(pair as fn(&(String, Value)) -> Pair<'_>)
    }

    /// The members in order, values mutable.
    pub fn iter_mut(&mut self) -> IterMut<'_> {
        self.members
            .iter_mut()
            .map(pair_mut as fn(&mut (String, Value)) -> PairMut<'_>)
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.members.iter().map(|(k, _)| k)
    }

    /// The values in order.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.members.iter().map(|(_, v)| v)
    }

    /// The values in order, mutable.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Value> {
        self.members.iter_mut().map(|(_, v)| v)
    }

    /// Keeps the members for which `keep` is true, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&String, &mut Value) -> bool) {
        self.members.retain_mut(|(k, v)| keep(k, v));
    }
}

/// `map["key"]`: the member's value.
///
/// # Panics
/// When `key` is missing (serde_json's contract). Compiled for tests only; the client
/// uses [`Map::get`].
#[cfg(test)]
impl ops::Index<&str> for Map<String, Value> {
    type Output = Value;

    fn index(&self, key: &str) -> &Value {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no member {key:?}"),
        }
    }
}

impl IntoIterator for Map<String, Value> {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.members.into_iter()
    }
}

impl<'a> IntoIterator for &'a Map<String, Value> {
    type Item = Pair<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut Map<String, Value> {
    type Item = PairMut<'a>;
    type IntoIter = IterMut<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

/// Inserts each member ([`Map::insert`]: later duplicates replace in place).
impl Extend<(String, Value)> for Map<String, Value> {
    fn extend<T: IntoIterator<Item = (String, Value)>>(&mut self, iter: T) {
        let mut members = std::mem::take(&mut self.members);
        members.extend(iter);
        *self = Map::from_members(members);
    }
}

/// Members in order ([`Map::from_members`]).
impl FromIterator<(String, Value)> for Map<String, Value> {
    fn from_iter<T: IntoIterator<Item = (String, Value)>>(iter: T) -> Self {
        Map::from_members(iter.into_iter().collect())
    }
}

/// Conversions from and to `serde_json`'s types for the unit tests (serde_json is a
/// dev-dependency: tests build expected values with its `json!` and read bodies with
/// its parser).
#[cfg(test)]
mod serde_conv {
    use super::{Map, Number, Value};

    impl From<serde_json::Number> for Number {
        fn from(n: serde_json::Number) -> Self {
            if let Some(u) = n.as_u64() {
                u.into()
            } else if let Some(i) = n.as_i64() {
                i.into()
            } else {
                Number::from_f64(n.as_f64().unwrap_or(f64::NAN)).expect("a finite float")
            }
        }
    }

    impl From<serde_json::Value> for Value {
        fn from(v: serde_json::Value) -> Self {
            match v {
                serde_json::Value::Null => Value::Null,
                serde_json::Value::Bool(b) => Value::Bool(b),
                serde_json::Value::Number(n) => Value::Number(n.into()),
                serde_json::Value::String(s) => Value::String(s),
                serde_json::Value::Array(a) => {
                    Value::Array(a.into_iter().map(Value::from).collect())
                }
                serde_json::Value::Object(o) => {
                    let mut m = Map::new();
                    for (k, v) in o {
                        m.push_unique(k, v.into());
                    }
                    Value::Object(m)
                }
            }
        }
    }

    impl From<Value> for serde_json::Value {
        fn from(v: Value) -> Self {
            match v {
                Value::Null => serde_json::Value::Null,
                Value::Bool(b) => serde_json::Value::Bool(b),
                Value::Number(n) => serde_json::Value::Number(n.into()),
                Value::String(s) => serde_json::Value::String(s),
                Value::Array(a) => {
                    serde_json::Value::Array(a.into_iter().map(serde_json::Value::from).collect())
                }
                Value::Object(o) => {
                    serde_json::Value::Object(o.into_iter().map(|(k, v)| (k, v.into())).collect())
                }
            }
        }
    }

    impl From<Number> for serde_json::Number {
        fn from(n: Number) -> Self {
            if let Some(u) = n.as_u64() {
                u.into()
            } else if let Some(i) = n.as_i64() {
                i.into()
            } else {
                serde_json::Number::from_f64(n.as_f64().unwrap_or(f64::NAN)).expect("finite")
            }
        }
    }

    impl From<Map<String, Value>> for serde_json::Map<String, serde_json::Value> {
        fn from(m: Map<String, Value>) -> Self {
            m.into_iter().map(|(k, v)| (k, v.into())).collect()
        }
    }

    /// Reads through serde_json's parser (tests: `serde_json::from_slice::<Value>`).
    impl<'de> serde::Deserialize<'de> for Value {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            serde_json::Value::deserialize(d).map(Value::from)
        }
    }

    /// Writes through serde_json's writer (tests: `serde_json::to_string(&value)`).
    impl serde::Serialize for Value {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serde_json::Value::from(self.clone()).serialize(s)
        }
    }

    /// Compact JSON text (tests: `value.to_string()`), as serde_json's `Display`.
    impl std::fmt::Display for Value {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&crate::protocol::json::text(self))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(m: &Map<String, Value>) -> Vec<&str> {
        m.keys().map(String::as_str).collect()
    }

    /// Members with keys `k{i % distinct}` and values `i`, read from text by serde_json
    /// (IndexMap: first place, last value) and by ours.
    fn repeated(count: usize, distinct: usize) {
        let mut text = String::from("{");
        for i in 0..count {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&format!("\"k{}\":{i}", (i * 7919) % distinct));
        }
        text.push('}');
        let ours = crate::protocol::json::parse(text.as_bytes()).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(&text).unwrap();
        // Same members, same order (text compares order; `==` does not).
        assert_eq!(
            crate::protocol::json::text(&ours),
            serde_json::to_string(&theirs).unwrap(),
            "{count} members, {distinct} keys"
        );
        assert_eq!(ours.as_object().unwrap().len(), distinct.min(count));
    }

    #[test]
    fn repeated_keys_keep_the_first_place_and_the_last_value_small_and_big() {
        for (count, distinct) in [
            (3, 2),
            (16, 5),
            (17, 17),
            (17, 3),
            (40, 40),
            (1000, 999),
            (5000, 37),
        ] {
            repeated(count, distinct);
        }
        let m: Map<String, Value> = [("a", 1), ("b", 2), ("a", 3)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::from(v)))
            .collect();
        assert_eq!(keys(&m), ["a", "b"]);
        assert_eq!(m["a"], 3);
    }

    #[test]
    fn insert_replaces_in_place_and_remove_keeps_the_order() {
        let mut m = Map::new();
        for k in ["a", "b", "c", "d"] {
            assert_eq!(m.insert(k.to_owned(), Value::from(k)), None);
        }
        assert_eq!(
            m.insert("b".to_owned(), Value::Null),
            Some(Value::from("b"))
        );
        assert_eq!(keys(&m), ["a", "b", "c", "d"]);
        assert_eq!(m.remove("a"), Some(Value::from("a")));
        assert_eq!(m.remove("a"), None);
        assert_eq!(keys(&m), ["b", "c", "d"]);
        m.extend([
            ("e".to_owned(), Value::Bool(true)),
            ("c".to_owned(), Value::Null),
        ]);
        assert_eq!(keys(&m), ["b", "c", "d", "e"]);
        assert_eq!(m.get("c"), Some(&Value::Null));
        m.retain(|k, _| k != "d");
        assert_eq!(keys(&m), ["b", "c", "e"]);
        let pairs: Vec<(&String, &Value)> = m.iter().collect();
        assert_eq!(pairs.len(), 3);
        for (_, v) in &mut m {
            *v = Value::from(1u8);
        }
        assert!(m.values().all(|v| *v == 1));
    }

    #[test]
    fn objects_are_equal_in_any_order_as_in_serde_json() {
        let a = crate::protocol::json::parse(br#"{"a":1,"b":[1,{"x":null,"y":2}]}"#).unwrap();
        let b = crate::protocol::json::parse(br#"{"b":[1,{"y":2,"x":null}],"a":1}"#).unwrap();
        let c = crate::protocol::json::parse(br#"{"b":[1,{"y":2,"x":null}],"a":1.0}"#).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let (sa, sb): (serde_json::Value, serde_json::Value) = (a.clone().into(), b.into());
        assert_eq!(sa, sb);
    }

    #[test]
    fn numbers_keep_what_serde_json_keeps() {
        let cases: [(Value, serde_json::Value); 7] = [
            (Value::from(5u64), serde_json::Value::from(5u64)),
            (Value::from(-5i64), serde_json::Value::from(-5i64)),
            (Value::from(7i64), serde_json::Value::from(7i64)),
            (Value::from(u64::MAX), serde_json::Value::from(u64::MAX)),
            (Value::from(i64::MIN), serde_json::Value::from(i64::MIN)),
            (Value::from(2.5f64), serde_json::Value::from(2.5f64)),
            (Value::from(f64::NAN), serde_json::Value::from(f64::NAN)),
        ];
        for (ours, theirs) in cases {
            assert_eq!(ours.as_u64(), theirs.as_u64(), "{theirs}");
            assert_eq!(ours.as_i64(), theirs.as_i64(), "{theirs}");
            assert_eq!(ours.as_f64(), theirs.as_f64(), "{theirs}");
            assert_eq!(ours.is_u64(), theirs.is_u64(), "{theirs}");
            assert_eq!(ours.is_i64(), theirs.is_i64(), "{theirs}");
            assert_eq!(ours.is_f64(), theirs.is_f64(), "{theirs}");
            assert_eq!(ours.is_null(), theirs.is_null(), "{theirs}");
            assert_eq!(Value::from(theirs.clone()), ours);
            assert_eq!(serde_json::Value::from(ours), theirs);
        }
        // An integer and the equal float are different values, as in serde_json.
        assert_ne!(Value::from(1u64), Value::from(1.0f64));
        assert_eq!(Value::from(1u64), 1);
        assert_eq!(Value::from(-0.0f64), Value::from(0.0f64));
    }

    #[test]
    fn indexing_gives_null_when_missing_and_assigning_inserts() {
        let mut v = crate::protocol::json::parse(br#"{"a":[10,{"b":"c"}]}"#).unwrap();
        assert_eq!(v["a"][1]["b"], "c");
        assert!(v["a"][5].is_null() && v["x"]["y"].is_null() && v[0].is_null());
        assert_eq!(v.get("a").and_then(|a| a.get(0)), Some(&Value::from(10u8)));
        v["z"] = Value::from("new");
        v["a"][0] = Value::Null;
        assert_eq!(
            crate::protocol::json::text(&v),
            r#"{"a":[null,{"b":"c"}],"z":"new"}"#
        );
        let mut n = Value::Null;
        n["k"] = Value::Bool(false);
        assert_eq!(crate::protocol::json::text(&n), r#"{"k":false}"#);
    }
}
