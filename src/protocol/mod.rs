//! Sans-IO core: the REST v1 wire format as plain functions and data. No I/O, no JS,
//! no clocks (times are passed in), so everything here is unit-tested natively.

pub mod auth;
pub mod common;
pub mod error;
pub mod events;
pub mod filters;
pub mod hooks;
pub mod http;
pub mod json;
pub mod naming;
pub mod navigation;
pub mod query;
pub mod record;
pub mod retry;
pub mod schema;
pub mod search;
pub mod site;
pub mod social;
pub mod transcode;
pub mod upload;
pub mod value;
pub mod write;

pub use error::{Error, ErrorKind};

/// An unsigned integer as decimal text, with `itoa`: `to_string` goes through
/// `core::fmt` (`Formatter`, padding, `write_fmt`), which the .wasm then carries.
pub fn dec(n: impl Unsigned) -> String {
    itoa::Buffer::new().format(n.widen()).to_owned()
}

/// `items` joined with `sep`: a plain loop, smaller in the .wasm than `[T]::join`'s
/// generic copy (instantiated for `&str` and `String` items).
pub fn join<S: AsRef<str>>(items: &[S], sep: &str) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(item.as_ref());
    }
    out
}

/// `s.rsplit_once(c)` for an ASCII `c`, by a byte search: smaller in the .wasm than
/// the reverse `char` searcher (an ASCII byte never occurs inside a multi-byte
/// UTF-8 sequence, so both halves stay on char boundaries).
pub fn rsplit_ascii(s: &str, c: u8) -> Option<(&str, &str)> {
    let i = s.bytes().rposition(|b| b == c)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// The unsigned integer types [`dec`] takes.
pub trait Unsigned: Copy {
    /// The value as a `u64` (lossless).
    fn widen(self) -> u64;
}

macro_rules! unsigned {
    ($($t:ty),*) => {$(
        impl Unsigned for $t {
            fn widen(self) -> u64 {
                self as u64
            }
        }
    )*};
}
unsigned!(u16, u32, u64, usize);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dec_writes_what_to_string_writes() {
        for n in [0u64, 1, 9, 10, 99, 100, 4096, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(dec(n), n.to_string());
        }
        assert_eq!(dec(u16::MAX), "65535");
        assert_eq!(dec(7usize), "7");
    }

    #[test]
    fn rsplit_ascii_matches_rsplit_once() {
        for s in [
            "",
            ":",
            "a:b:c",
            "héllo:8080",
            "no-colon",
            "é:",
            ":é",
            "[::1]:9",
        ] {
            assert_eq!(rsplit_ascii(s, b':'), s.rsplit_once(':'), "{s}");
        }
        assert_eq!(
            rsplit_ascii("clip.final.MOV", b'.'),
            Some(("clip.final", "MOV"))
        );
    }

    #[test]
    fn join_matches_slice_join() {
        let strs: [&[&str]; 3] = [&[], &["a"], &["a", "", "bc"]];
        for items in strs {
            assert_eq!(join(items, ", "), items.join(", "));
        }
        let owned = vec!["x".to_owned(), "y".to_owned()];
        assert_eq!(join(&owned, ","), "x,y");
    }

    #[test]
    fn error_message_shows_negative_codes() {
        let mut e = Error::new(ErrorKind::Http, "Boom");
        e.status = Some(500);
        e.code = Some(-104);
        let m = e.message();
        assert!(m.starts_with("ShotGrid http 500 (code -104): Boom"), "{m}");
        e.code = Some(i64::MIN);
        assert!(e.message().contains("(code -9223372036854775808)"));
    }
}
