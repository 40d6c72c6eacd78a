//! Short import, export and module names in the `.wasm` (binaryen's
//! `--minify-imports-and-exports-and-modules`), with the wasm-bindgen glue and its
//! `.d.ts` files rewritten to match.
//!
//! wasm-bindgen names every import after the JS function plus a 16-digit hash
//! (`__wbg_then_656f253a5dd7d8ea`), and closure shims after their full Rust types
//! (~300 bytes each); gzip cannot squeeze the hashes. Short names (`a`, `Qa`, …) take
//! ~2.3 KB off the gzipped `.wasm`. wasm-opt prints the mapping as JSON; the glue is
//! then rewritten from it, and the rewrite is checked: every old import name replaced
//! exactly once, every `wasm.X` export reference left naming a new export.

use std::path::Path;

use crate::Result;

/// The mapping wasm-opt printed: imports `(module, old, new)` and exports `(old, new)`.
#[derive(Debug, Default, PartialEq)]
pub struct Mapping {
    /// `(module, old name, new name)`; binaryen renames every module to one.
    pub imports: Vec<(String, String, String)>,
    /// `(old name, new name)`.
    pub exports: Vec<(String, String)>,
}

/// The module name binaryen gives every import with `-and-modules`.
pub const MODULE: &str = "a";

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'.' | b'/' | b'-'))
}

/// Reads wasm-opt's printed mapping: a JSON object with `imports` (`[module, old,
/// new]` rows) and `exports` (`[old, new]` rows), one row a line.
pub fn parse_mapping(text: &str) -> Result<Mapping> {
    let mut map = Mapping::default();
    let mut section = "";
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("\"imports\"") {
            section = "imports";
            continue;
        }
        if t.starts_with("\"exports\"") {
            section = "exports";
            continue;
        }
        if !t.starts_with('[') || !t.contains('"') {
            continue;
        }
        let fields: Vec<&str> = t.split('"').skip(1).step_by(2).collect();
        if let Some(bad) = fields.iter().find(|f| !is_name(f)) {
            return Err(format!("wasm-opt mapping: unexpected name {bad:?} in {t}").into());
        }
        match (section, fields.as_slice()) {
            ("imports", [m, old, new]) => {
                map.imports
                    .push(((*m).to_owned(), (*old).to_owned(), (*new).to_owned()))
            }
            ("exports", [old, new]) => map.exports.push(((*old).to_owned(), (*new).to_owned())),
            _ => return Err(format!("wasm-opt mapping: unexpected line {t}").into()),
        }
    }
    if map.imports.is_empty() || map.exports.is_empty() {
        return Err("wasm-opt printed no import/export mapping".into());
    }
    Ok(map)
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// Replaces `from` by `to` where `from` is not followed by an identifier character;
/// returns the count.
fn replace_token(text: &mut String, from: &str, to: &str) -> usize {
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    let mut n = 0;
    while let Some(i) = rest.find(from) {
        let after = rest.as_bytes().get(i + from.len()).copied();
        out.push_str(&rest[..i]);
        if after.is_some_and(is_ident_byte) {
            out.push_str(from);
        } else {
            out.push_str(to);
            n += 1;
        }
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    *text = out;
    n
}

/// Rewrites the wasm-bindgen glue (`--target web`) for the minified module.
pub fn rewrite_glue(glue: &str, map: &Mapping) -> Result<String> {
    let mut text = glue.to_owned();
    let mut modules: Vec<&str> = map.imports.iter().map(|(m, _, _)| m.as_str()).collect();
    modules.dedup();
    for m in modules {
        let from = format!("\"{m}\": import");
        let n = text.matches(&from).count();
        text = text.replace(&from, &format!("\"{MODULE}\": import"));
        if n != 1 {
            return Err(
                format!("glue: expected one import object for module {m:?}, found {n}").into(),
            );
        }
    }
    for (_, old, new) in &map.imports {
        // Keys of the import object: `        __wbg_then_…: function(…`.
        let n = replace_token(&mut text, &format!(" {old}:"), &format!(" {new}:"));
        if n != 1 {
            return Err(format!("glue: expected one import {old:?}, found {n}").into());
        }
    }
    for (old, new) in &map.exports {
        replace_token(&mut text, &format!("wasm.{old}"), &format!("wasm.{new}"));
    }
    // Every export the glue still uses must be one the module has.
    let news: Vec<&str> = map.exports.iter().map(|(_, n)| n.as_str()).collect();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("wasm.") {
        let before = i
            .checked_sub(1)
            .and_then(|j| rest.as_bytes().get(j).copied());
        let tail = &rest[i + 5..];
        let end = tail
            .bytes()
            .position(|b| !is_ident_byte(b))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        if !before.is_some_and(is_ident_byte) && !name.is_empty() && !news.contains(&name) {
            return Err(
                format!("glue: `wasm.{name}` names no export of the minified module").into(),
            );
        }
        rest = tail;
    }
    Ok(text)
}

/// Rewrites export names in a `.d.ts` of the glue (`readonly old:` / `export const old:`).
pub fn rewrite_dts(dts: &str, map: &Mapping) -> String {
    let mut text = dts.to_owned();
    for (old, new) in &map.exports {
        replace_token(
            &mut text,
            &format!("readonly {old}:"),
            &format!("readonly {new}:"),
        );
        replace_token(
            &mut text,
            &format!("export const {old}:"),
            &format!("export const {new}:"),
        );
    }
    text
}

/// Rewrites `pkg/`'s glue and `.d.ts` files after wasm-opt printed `mapping`.
pub fn apply(pkg: &Path, lib: &str, mapping: &str) -> Result<usize> {
    let map = parse_mapping(mapping)?;
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let glue_path = pkg.join(format!("{lib}.js"));
    let glue = rewrite_glue(&read(&glue_path)?, &map)?;
    std::fs::write(&glue_path, glue).map_err(|e| format!("{}: {e}", glue_path.display()))?;
    for name in [format!("{lib}.d.ts"), format!("{lib}_bg.wasm.d.ts")] {
        let p = pkg.join(name);
        if p.exists() {
            let t = rewrite_dts(&read(&p)?, &map);
            std::fs::write(&p, t).map_err(|e| format!("{}: {e}", p.display()))?;
        }
    }
    Ok(map.imports.len() + map.exports.len())
}

fn leb(bytes: &[u8], at: &mut usize) -> Result<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at).ok_or("wasm: truncated LEB128")?;
        *at += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("wasm: LEB128 too long".into())
}

/// Checks the premise of wasm-opt's `--low-memory-unused` on a module rustc linked:
/// the first KiB holds no data. Every active data segment must start at a constant
/// offset ≥ 1024 and the stack pointer (the first global, `__stack_pointer`) must start
/// at or below the first segment (the stack placed first, growing down from there).
pub fn low_memory_is_unused(wasm: &[u8]) -> Result<()> {
    if wasm.get(..4) != Some(b"\0asm".as_slice()) {
        return Err("not a wasm module".into());
    }
    let mut at = 8;
    let mut stack_top = None;
    let mut lowest_data = None::<u64>;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let size = leb(wasm, &mut at)? as usize;
        let end = at + size;
        let mut p = at;
        match id {
            // Global section: the first global's init expression `i32.const N; end`.
            6 if stack_top.is_none() => {
                let count = leb(wasm, &mut p)?;
                if count > 0 && wasm.get(p..p + 3) == Some(&[0x7f, 1, 0x41]) {
                    p += 3;
                    stack_top = Some(leb(wasm, &mut p)?);
                }
            }
            // Data section: active segments of memory 0 with `i32.const N; end`.
            11 => {
                let count = leb(wasm, &mut p)?;
                for _ in 0..count {
                    let flags = leb(wasm, &mut p)?;
                    if flags == 1 {
                        let len = leb(wasm, &mut p)? as usize;
                        p += len;
                        continue;
                    }
                    if flags == 2 {
                        leb(wasm, &mut p)?;
                    }
                    if wasm.get(p) != Some(&0x41) {
                        return Err("wasm: a data segment without a constant offset".into());
                    }
                    p += 1;
                    let offset = leb(wasm, &mut p)?;
                    p += 1; // `end`
                    let len = leb(wasm, &mut p)? as usize;
                    p += len;
                    lowest_data = Some(lowest_data.map_or(offset, |l| l.min(offset)));
                }
            }
            _ => {}
        }
        at = end;
    }
    let (Some(stack), Some(data)) = (stack_top, lowest_data) else {
        return Err("wasm: no stack pointer or no data segment found".into());
    };
    if data < 1024 || stack > data || stack < 1024 {
        return Err(format!(
            "--low-memory-unused needs the stack first and no data in the first KiB: \
             stack pointer starts at {stack}, data at {data}"
        )
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPPING: &str = r#"{
 "imports": [
  ["./x_bg.js", "__wbg_then_656f", "$"],
  ["./x_bg.js", "__wbg_new_ba40", "A"]
 ],
"exports": [
  ["memory", "Ha"],
  ["shotgrid___call", "Qa"]
 ]
}"#;

    const GLUE: &str = "function __wbg_get_imports() {\n    const import0 = {\n        __proto__: null,\n        __wbg_then_656f: function(a) { return a; },\n        __wbg_new_ba40: function() { return wasm.memory; },\n    };\n    return { __proto__: null, \"./x_bg.js\": import0 };\n}\nfunction f() { wasm.shotgrid___call(1); wasm.memoryx; }\n";

    #[test]
    fn mapping_is_read_row_by_row() {
        let m = parse_mapping(MAPPING).unwrap_or_default();
        assert_eq!(m.imports.len(), 2);
        assert_eq!(
            m.imports[0],
            ("./x_bg.js".into(), "__wbg_then_656f".into(), "$".into())
        );
        assert_eq!(m.exports[1], ("shotgrid___call".into(), "Qa".into()));
        assert!(parse_mapping("{}").is_err());
        assert!(parse_mapping("\"exports\": [\n [\"a b\", \"c\"]\n").is_err());
    }

    #[test]
    fn glue_gets_the_new_names_and_only_whole_tokens_change() {
        let m = parse_mapping(MAPPING).unwrap_or_default();
        // `wasm.memoryx` is not an export reference of `memory`: the check refuses it.
        let err = rewrite_glue(GLUE, &m).map(|_| ()).unwrap_err().to_string();
        assert!(err.contains("wasm.memoryx"), "{err}");
        let glue = GLUE.replace(" wasm.memoryx;", "");
        let out = rewrite_glue(&glue, &m).unwrap_or_default();
        assert!(out.contains("        $: function(a)"), "{out}");
        assert!(
            out.contains("        A: function() { return wasm.Ha; }"),
            "{out}"
        );
        assert!(out.contains("\"a\": import0"), "{out}");
        assert!(out.contains("wasm.Qa(1)"), "{out}");
        assert!(
            !out.contains("__wbg_then_656f") && !out.contains("__wbg_new_ba40"),
            "{out}"
        );
    }

    #[test]
    fn a_missing_import_fails_the_rewrite() {
        let m = parse_mapping(MAPPING).unwrap_or_default();
        let glue = GLUE
            .replace("__wbg_new_ba40", "__wbg_new_other")
            .replace(" wasm.memoryx;", "");
        assert!(rewrite_glue(&glue, &m).is_err());
    }

    /// A module with one i32 global (`init`) and one active data segment at `data`.
    fn module(init: u8, data: u8) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend([6, 6, 1, 0x7f, 1, 0x41, init, 0x0b]);
        m.extend([11, 7, 1, 0, 0x41, data, 0x0b, 1, 0xaa]);
        m
    }

    #[test]
    fn low_memory_check_reads_the_layout() {
        // LEB128 of 1,048,576 is 80 80 c0 00; small values fit one byte (< 64).
        let mut ok = b"\0asm\x01\0\0\0".to_vec();
        ok.extend([6, 9, 1, 0x7f, 1, 0x41, 0x80, 0x80, 0xc0, 0x00, 0x0b]);
        ok.extend([11, 10, 1, 0, 0x41, 0x80, 0x80, 0xc0, 0x00, 0x0b, 1, 0xaa]);
        assert!(low_memory_is_unused(&ok).is_ok());
        // Data at 8 (the first KiB), stack at 16: refused.
        assert!(low_memory_is_unused(&module(16, 8)).is_err());
        assert!(low_memory_is_unused(b"nope").is_err());
    }

    #[test]
    fn dts_exports_are_renamed() {
        let m = parse_mapping(MAPPING).unwrap_or_default();
        let out = rewrite_dts(
            "  readonly memory: WebAssembly.Memory;\nexport const shotgrid___call: () => void;\n",
            &m,
        );
        assert_eq!(
            out,
            "  readonly Ha: WebAssembly.Memory;\nexport const Qa: () => void;\n"
        );
    }
}
