//! Persistence of the site's data (`--data FILE`) and the `--config FILE` format.
//!
//! Every committed write saves a full snapshot atomically: the JSON is written to a
//! temporary file next to the data file, flushed to disk (`fsync`), then renamed over
//! the data file, and the directory is synced. A crash at any point leaves either the
//! old or the new snapshot, never a torn one; a stale temporary file is ignored.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Deserialize;

use crate::model::store::StoreSnapshot;
use crate::model::Store;

/// Saves snapshots of the store to one file, crash-safely.
#[derive(Debug)]
pub struct Persister {
    path: PathBuf,
    lock: Mutex<()>,
}

impl Persister {
    /// A persister writing to `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Persister {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    /// The data file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn temp_path(&self) -> PathBuf {
        let mut name = self
            .path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".tmp");
        self.path.with_file_name(name)
    }

    /// Loads the store saved in the data file, or `None` when there is no file yet.
    pub fn load(&self) -> anyhow::Result<Option<Store>> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(anyhow::anyhow!("reading {}: {e}", self.path.display())),
        };
        let snapshot: StoreSnapshot = serde_json::from_slice(&bytes)
            .map_err(|e| anyhow::anyhow!("parsing {}: {e}", self.path.display()))?;
        Ok(Some(Store::from_snapshot(snapshot)))
    }

    /// Writes a snapshot: temp file, fsync, rename, directory fsync.
    pub fn save(&self, snapshot: &StoreSnapshot) -> std::io::Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = serde_json::to_vec(snapshot).map_err(std::io::Error::other)?;
        let tmp = self.temp_path();
        {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            // Not every platform can open a directory; the rename is done either way.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

/// A human user from the config file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HumanUserConfig {
    /// Login name.
    pub login: String,
    /// Password (for the `password` grant).
    pub password: String,
    /// Display name; defaults to the login.
    #[serde(default)]
    pub name: Option<String>,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
}

/// A script user from the config file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ScriptUserConfig {
    /// Script name (client_id).
    pub name: String,
    /// Script key (client_secret).
    pub key: String,
}

/// The `--config FILE` contents (TOML, or JSON when the file name ends in `.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Script users (name/key).
    #[serde(default)]
    pub script_users: Vec<ScriptUserConfig>,
    /// Human users (login/password).
    #[serde(default)]
    pub human_users: Vec<HumanUserConfig>,
    /// Access token lifetime in seconds.
    #[serde(default)]
    pub token_lifetime: Option<u64>,
}

impl FileConfig {
    /// Parses a config file's text; `json` selects JSON instead of TOML.
    pub fn parse(text: &str, json: bool) -> anyhow::Result<Self> {
        if json {
            Ok(serde_json::from_str(text)?)
        } else {
            Ok(toml::from_str(text)?)
        }
    }

    /// Reads and parses a config file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        let json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        Self::parse(&text, json).map_err(|e| anyhow::anyhow!("parsing {}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_in_toml_and_json() {
        let t = FileConfig::parse(
            "token_lifetime = 60\n[[script_users]]\nname = \"a\"\nkey = \"b\"\n[[human_users]]\nlogin = \"u\"\npassword = \"p\"\n",
            false,
        )
        .unwrap();
        assert_eq!(t.token_lifetime, Some(60));
        assert_eq!(t.script_users[0].name, "a");
        assert_eq!(t.human_users[0].login, "u");
        let j =
            FileConfig::parse(r#"{"human_users":[{"login":"u","password":"p"}]}"#, true).unwrap();
        assert_eq!(j.human_users.len(), 1);
        assert!(FileConfig::parse("nope = 1", false).is_err());
    }

    #[test]
    fn torn_temp_file_never_corrupts_the_data_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.json");
        let p = Persister::new(&path);
        assert!(p.load().unwrap().is_none());
        let mut store = Store::new();
        store
            .insert(
                "Shot",
                serde_json::json!({"code": "a"})
                    .as_object()
                    .cloned()
                    .unwrap(),
            )
            .unwrap();
        p.save(&store.snapshot()).unwrap();
        // A crash mid-write leaves a torn temp file: the data file is untouched.
        fs::write(p.temp_path(), b"{\"version\":1,\"tab").unwrap();
        let loaded = p.load().unwrap().unwrap();
        assert_eq!(loaded.display_name("Shot", 1).as_deref(), Some("a"));
        // The next save replaces the torn temp file.
        p.save(&loaded.snapshot()).unwrap();
        assert!(!p.temp_path().exists());
        assert!(p.load().unwrap().is_some());
    }
}
