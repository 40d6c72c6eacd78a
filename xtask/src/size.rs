//! The package's size budget (issue 7): `pkg/shotgrid_wasm_bg.wasm` ≤ 100 KiB gzip and
//! the wasm-bindgen JS glue `pkg/shotgrid_wasm.js` ≤ 15 KiB gzip, both measured with
//! `gzip -9` on the files `cargo xtask build` wrote. `cargo xtask build` prints the
//! sizes; the `size` suite of `cargo xtask test` prints them and fails above budget.

use std::path::{Path, PathBuf};

use crate::util;
use crate::Result;

/// The budgets, gzip bytes: (file in `pkg/`, budget).
pub const BUDGETS: &[(&str, u64)] = &[
    ("shotgrid_wasm_bg.wasm", 100 * 1024),
    ("shotgrid_wasm.js", 15 * 1024),
];

/// One measured file.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Path relative to the repository root, e.g. `pkg/shotgrid_wasm.js`.
    pub name: String,
    /// Bytes on disk.
    pub raw: u64,
    /// Bytes after `gzip -9`.
    pub gzip: u64,
    /// The gzip budget.
    pub budget: u64,
}

impl Measured {
    /// Whether the file fits its budget.
    pub fn fits(&self) -> bool {
        self.gzip <= self.budget
    }

    /// `pkg/x: N B (…) raw, M B (…) gzip, budget B B (…): ok` (or `OVER by …`).
    pub fn line(&self) -> String {
        let verdict = if self.fits() {
            format!("ok, {} under", util::bytes(self.budget - self.gzip))
        } else {
            format!("OVER by {}", util::bytes(self.gzip - self.budget))
        };
        format!(
            "{}: {} raw, {} gzip; budget {} gzip: {verdict}",
            self.name,
            util::bytes(self.raw),
            util::bytes(self.gzip),
            util::bytes(self.budget),
        )
    }
}

/// Measures every budgeted file of `pkg/`.
pub fn measure(root: &Path) -> Result<Vec<Measured>> {
    BUDGETS
        .iter()
        .map(|&(file, budget)| {
            let path: PathBuf = root.join("pkg").join(file);
            let raw = std::fs::metadata(&path)
                .map_err(|e| format!("{}: {e} (run `cargo xtask build`)", path.display()))?
                .len();
            Ok(Measured {
                name: format!("pkg/{file}"),
                raw,
                gzip: util::gzip_size(&path)?,
                budget,
            })
        })
        .collect()
}

/// Prints one line per file; fails naming every file above its budget.
pub fn report(measured: &[Measured]) -> Result<()> {
    for m in measured {
        println!("{}", m.line());
    }
    let over: Vec<String> = measured
        .iter()
        .filter(|m| !m.fits())
        .map(|m| {
            format!(
                "{} is {} B gzip, {} B over its {} B budget",
                m.name,
                m.gzip,
                m.gzip - m.budget,
                m.budget
            )
        })
        .collect();
    if over.is_empty() {
        Ok(())
    } else {
        Err(format!("size budget exceeded: {}", over.join("; ")).into())
    }
}

/// The `size` suite: measure, print, fail above budget.
pub fn check(root: &Path) -> Result<()> {
    report(&measure(root)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(gzip: u64, budget: u64) -> Measured {
        Measured {
            name: "pkg/x.wasm".into(),
            raw: 3 * gzip,
            gzip,
            budget,
        }
    }

    #[test]
    fn at_budget_fits_one_byte_over_fails() {
        assert!(m(100, 100).fits());
        assert!(!m(101, 100).fits());
        assert!(report(&[m(100, 100), m(5, 15)]).is_ok());
        let err = report(&[m(5, 15), m(101, 100)]).unwrap_err().to_string();
        assert_eq!(
            err,
            "size budget exceeded: pkg/x.wasm is 101 B gzip, 1 B over its 100 B budget"
        );
    }

    #[test]
    fn lines_show_raw_gzip_budget_and_margin() {
        assert_eq!(
            m(2048, 3072).line(),
            "pkg/x.wasm: 6144 B (6.0 KiB) raw, 2048 B (2.0 KiB) gzip; budget 3072 B (3.0 KiB) gzip: ok, 1024 B (1.0 KiB) under"
        );
        assert!(m(3073, 3072).line().ends_with("OVER by 1 B (0.0 KiB)"));
    }

    #[test]
    fn measures_real_files_with_gzip() {
        let base = std::env::temp_dir().join(format!("xtask-size-{}", std::process::id()));
        std::fs::create_dir_all(base.join("pkg")).unwrap();
        // Incompressible-ish bytes for the wasm, very compressible text for the glue.
        let mut x: u32 = 12345;
        let noise: Vec<u8> = (0..200_000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        std::fs::write(base.join("pkg/shotgrid_wasm_bg.wasm"), &noise).unwrap();
        std::fs::write(base.join("pkg/shotgrid_wasm.js"), "a".repeat(50_000)).unwrap();
        let measured = measure(&base).unwrap();
        assert_eq!(measured.len(), 2);
        assert_eq!(measured[0].raw, 200_000);
        assert!(
            measured[0].gzip > 102_400,
            "noise stays big: {:?}",
            measured[0]
        );
        assert!(!measured[0].fits());
        assert!(measured[1].gzip < 1024 && measured[1].fits());
        assert!(check(&base).is_err());
        std::fs::remove_dir_all(&base).unwrap();
        assert!(measure(&base).is_err(), "a missing pkg/ is an error");
    }
}
