//! The package's size budget (issue 7): `pkg/shotgrid_wasm_bg.wasm` ≤ 100 KiB gzip and
//! the wasm-bindgen JS glue `pkg/shotgrid_wasm.js` ≤ 15 KiB gzip, both measured with
//! `gzip -9` on the files `cargo xtask build` wrote. `cargo xtask build` prints the
//! sizes; the `size` suite of `cargo xtask test` prints them against the budget and
//! fails above the enforced ceiling.
//!
//! While a file is over its budget, the suite enforces a ratchet instead: a ceiling a little above the last measured size,
//! so the file can only shrink. Lower a ceiling whenever a change makes the file smaller;
//! once every file fits, each ceiling equals its budget and the gate is the budget.

use std::path::{Path, PathBuf};

use crate::util;
use crate::Result;

/// The budgets and enforced ceilings, gzip bytes: (file in `pkg/`, budget, ceiling).
/// The ceiling is never above what the file measured when it was last lowered plus a
/// small margin, and never below the budget.
pub const BUDGETS: &[(&str, u64, u64)] = &[
    // Measured 101,998 B gzip on 2026-11-30: within budget, so the gate is the budget.
    ("shotgrid_wasm_bg.wasm", 100 * 1024, 100 * 1024),
    ("shotgrid_wasm.js", 15 * 1024, 15 * 1024),
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
    /// The gzip budget (the goal).
    pub budget: u64,
    /// The gzip ceiling the suite enforces (equal to the budget once the file fits).
    pub ceiling: u64,
}

impl Measured {
    /// Whether the file fits its budget.
    pub fn fits(&self) -> bool {
        self.gzip <= self.budget
    }

    /// Whether the file is within the enforced ceiling.
    pub fn within_ceiling(&self) -> bool {
        self.gzip <= self.ceiling.max(self.budget)
    }

    /// `pkg/x: N B (…) raw, M B (…) gzip, budget B B (…): ok` (or `OVER by …`).
    pub fn line(&self) -> String {
        let verdict = if self.fits() {
            format!("ok, {} under", util::bytes(self.budget - self.gzip))
        } else {
            format!(
                "OVER by {} (enforced ceiling {}: {})",
                util::bytes(self.gzip - self.budget),
                util::bytes(self.ceiling),
                if self.within_ceiling() {
                    "not grown"
                } else {
                    "GROWN PAST IT"
                },
            )
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
        .map(|&(file, budget, ceiling)| {
            let path: PathBuf = root.join("pkg").join(file);
            let raw = std::fs::metadata(&path)
                .map_err(|e| format!("{}: {e} (run `cargo xtask build`)", path.display()))?
                .len();
            Ok(Measured {
                name: format!("pkg/{file}"),
                raw,
                gzip: util::gzip_size(&path)?,
                budget,
                ceiling,
            })
        })
        .collect()
}

/// Prints one line per file; fails naming every file above its enforced ceiling.
pub fn report(measured: &[Measured]) -> Result<()> {
    for m in measured {
        println!("{}", m.line());
    }
    let grown: Vec<String> = measured
        .iter()
        .filter(|m| !m.within_ceiling())
        .map(|m| {
            format!(
                "{} is {} B gzip, {} B over its enforced ceiling of {} B (budget {} B)",
                m.name,
                m.gzip,
                m.gzip - m.ceiling.max(m.budget),
                m.ceiling.max(m.budget),
                m.budget
            )
        })
        .collect();
    if grown.is_empty() {
        Ok(())
    } else {
        Err(format!("size ceiling exceeded: {}", grown.join("; ")).into())
    }
}

/// The `size` suite: measure, print, fail above the enforced ceiling.
pub fn check(root: &Path) -> Result<()> {
    report(&measure(root)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(gzip: u64, budget: u64) -> Measured {
        ratchet(gzip, budget, budget)
    }

    fn ratchet(gzip: u64, budget: u64, ceiling: u64) -> Measured {
        Measured {
            name: "pkg/x.wasm".into(),
            raw: 3 * gzip,
            gzip,
            budget,
            ceiling,
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
            "size ceiling exceeded: pkg/x.wasm is 101 B gzip, 1 B over its enforced ceiling of 100 B (budget 100 B)"
        );
    }

    #[test]
    fn over_budget_passes_only_below_the_ceiling() {
        let under = ratchet(150, 100, 160);
        assert!(!under.fits() && under.within_ceiling());
        assert!(report(std::slice::from_ref(&under)).is_ok());
        assert!(under
            .line()
            .ends_with("OVER by 50 B (0.0 KiB) (enforced ceiling 160 B (0.2 KiB): not grown)"));
        let grown = ratchet(161, 100, 160);
        assert!(grown.line().ends_with("GROWN PAST IT)"));
        let err = report(&[under, grown]).unwrap_err().to_string();
        assert_eq!(
            err,
            "size ceiling exceeded: pkg/x.wasm is 161 B gzip, 1 B over its enforced ceiling of 160 B (budget 100 B)"
        );
        // A ceiling below the budget never fails a file that fits its budget.
        assert!(report(&[ratchet(100, 100, 90)]).is_ok());
    }

    #[test]
    fn every_ceiling_is_at_least_its_budget() {
        for &(file, budget, ceiling) in BUDGETS {
            assert!(
                ceiling >= budget,
                "{file}: ceiling {ceiling} < budget {budget}"
            );
        }
    }

    #[test]
    fn lines_show_raw_gzip_budget_and_margin() {
        assert_eq!(
            m(2048, 3072).line(),
            "pkg/x.wasm: 6144 B (6.0 KiB) raw, 2048 B (2.0 KiB) gzip; budget 3072 B (3.0 KiB) gzip: ok, 1024 B (1.0 KiB) under"
        );
        assert!(m(3073, 3072)
            .line()
            .ends_with("OVER by 1 B (0.0 KiB) (enforced ceiling 3072 B (3.0 KiB): GROWN PAST IT)"));
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
