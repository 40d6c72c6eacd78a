//! Persistence of the site's data (`--data FILE`) and the `--config FILE` format.
//!
//! The data file is one JSON document with a section per part of the site's state:
//! `store` (records, schema, event log), `files` (stored files: their metadata, which
//! Attachment or thumbnail uses which, the URL-signing secret), `social` (follows,
//! project last-accessed times) and `webhooks` (hooks and their deliveries). Each part
//! hands over its section's JSON when it commits a change (while it still holds its
//! own lock, so sections are saved in commit order); the persister keeps the last
//! committed bytes of every section and writes the whole document atomically: to a
//! temporary file next to the data file, flushed to disk (`fsync`), then renamed over
//! the data file, and the directory is synced. A crash at any point leaves either the
//! old or the new document, never a torn one; a stale temporary file is ignored. A
//! change that spans parts (completing an upload changes `store` and `files`) is saved
//! in one write.
//!
//! File contents live beside the data file in `FILE.blobs/`, one file per content
//! (named by its SHA-256), each written the same atomic way *before* the document
//! that refers to it, so the document never names a missing file. Files no document
//! refers to (from a crash between the two writes) are harmless and removed on start.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use crate::model::store::{StoreSnapshot, Table};
#[cfg(test)]
use crate::model::Store;

/// Version of the data file written now (version 1 held only the store's tables).
pub const FORMAT_VERSION: u32 = 2;

/// The sections of the data file, in the order they are written.
pub const SECTIONS: [&str; 4] = ["store", "files", "social", "webhooks"];

/// The data file as read back.
#[derive(Debug, Default, Deserialize)]
pub struct DataFile {
    /// Format version.
    #[serde(default)]
    pub version: u32,
    /// Version 1: the store's tables at the top level.
    #[serde(default)]
    pub tables: Option<BTreeMap<String, Table>>,
    /// The entity store.
    #[serde(default)]
    pub store: Option<StoreSnapshot>,
    /// Stored files (see [`crate::model::files::FilesSnapshot`]).
    #[serde(default)]
    pub files: Option<serde_json::Value>,
    /// Follows and last-accessed times (see [`crate::model::social::SocialSnapshot`]).
    #[serde(default)]
    pub social: Option<serde_json::Value>,
    /// Webhooks and deliveries (see [`crate::model::webhooks::WebhooksSnapshot`]).
    #[serde(default)]
    pub webhooks: Option<serde_json::Value>,
}

impl DataFile {
    /// The store's snapshot, from either format version.
    pub fn take_store(&mut self) -> Option<StoreSnapshot> {
        self.store.take().or_else(|| {
            self.tables
                .take()
                .map(|tables| StoreSnapshot { version: 1, tables })
        })
    }
}

/// Saves the site's state to one file, crash-safely.
#[derive(Debug)]
pub struct Persister {
    path: PathBuf,
    /// The last committed JSON of every section.
    sections: Mutex<BTreeMap<&'static str, Arc<[u8]>>>,
}

/// Writes `bytes` to `path` atomically: temp file, fsync, rename, directory fsync.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_pieces(path, &[bytes])
}

/// [`write_atomic`] of the concatenation of `pieces`.
fn write_atomic_pieces<B: AsRef<[u8]>>(path: &Path, pieces: &[B]) -> std::io::Result<()> {
    let tmp = temp_path(path);
    {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        // The site's data holds passwords and webhook tokens: owner only.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp)?;
        for piece in pieces {
            f.write_all(piece.as_ref())?;
        }
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    sync_dir(path);
    Ok(())
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
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
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Whether a blob name is a lower-case hex SHA-256 (never a path).
fn valid_blob_name(sha256: &str) -> bool {
    sha256.len() == 64
        && sha256
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

impl Persister {
    /// A persister writing to `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Persister {
            path: path.into(),
            sections: Mutex::new(BTreeMap::new()),
        }
    }

    /// The data file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    #[cfg(test)]
    fn temp_path(&self) -> PathBuf {
        temp_path(&self.path)
    }

    /// The directory holding file contents: `FILE.blobs` beside the data file.
    pub fn blob_dir(&self) -> PathBuf {
        let mut name = self
            .path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".blobs");
        self.path.with_file_name(name)
    }

    /// Loads the data file, or `None` when there is none yet.
    pub fn load(&self) -> anyhow::Result<Option<DataFile>> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(anyhow::anyhow!("reading {}: {e}", self.path.display())),
        };
        let data: DataFile = serde_json::from_slice(&bytes)
            .map_err(|e| anyhow::anyhow!("parsing {}: {e}", self.path.display()))?;
        if data.version > FORMAT_VERSION {
            anyhow::bail!(
                "{} is format version {}, newer than this emulator's {FORMAT_VERSION}",
                self.path.display(),
                data.version
            );
        }
        Ok(Some(data))
    }

    /// Replaces the given sections and writes the whole document. On failure nothing
    /// changes: neither the file nor the sections kept for the next write.
    pub fn save(&self, updates: Vec<(&'static str, Vec<u8>)>) -> std::io::Result<()> {
        let mut sections = self.sections.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = sections.clone();
        for (name, bytes) in updates {
            next.insert(name, Arc::from(bytes));
        }
        let mut doc = Vec::with_capacity(next.values().map(|b| b.len() + 16).sum::<usize>() + 16);
        doc.extend_from_slice(format!("{{\"version\":{FORMAT_VERSION}").as_bytes());
        for name in SECTIONS {
            if let Some(bytes) = next.get(name) {
                doc.extend_from_slice(format!(",\"{name}\":").as_bytes());
                doc.extend_from_slice(bytes);
            }
        }
        doc.push(b'}');
        write_atomic(&self.path, &doc)?;
        *sections = next;
        Ok(())
    }

    /// Stores a file's contents, given as the concatenation of `pieces`, under its
    /// SHA-256 (a no-op when already there).
    pub fn save_blob<B: AsRef<[u8]>>(&self, sha256: &str, pieces: &[B]) -> std::io::Result<()> {
        if !valid_blob_name(sha256) {
            return Err(std::io::Error::other("invalid blob name"));
        }
        let dir = self.blob_dir();
        fs::create_dir_all(&dir)?;
        let path = dir.join(sha256);
        if path.exists() {
            return Ok(());
        }
        write_atomic_pieces(&path, pieces)
    }

    /// Reads a stored file's contents back.
    pub fn load_blob(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        if !valid_blob_name(sha256) {
            return Err(std::io::Error::other("invalid blob name"));
        }
        fs::read(self.blob_dir().join(sha256))
    }

    /// Removes stored contents that no record refers to any more (left by a crash
    /// between writing a file and the document that would have named it), and stale
    /// temporary files.
    pub fn remove_unused_blobs(&self, used: &std::collections::HashSet<String>) {
        let Ok(entries) = fs::read_dir(self.blob_dir()) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !used.contains(&name) {
                let _ = fs::remove_file(e.path());
            }
        }
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
    /// Serve HTTPS with HTTP/2 (`--tls`).
    #[serde(default)]
    pub tls: Option<bool>,
    /// Certificate chain PEM file (`--tls-cert`); relative to the config file.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// Private key PEM file (`--tls-key`); relative to the config file.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
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
        let mut config = Self::parse(&text, json)
            .map_err(|e| anyhow::anyhow!("parsing {}: {e}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new(""));
        for file in [&mut config.tls_cert, &mut config.tls_key]
            .into_iter()
            .flatten()
        {
            if file.is_relative() {
                *file = dir.join(&*file);
            }
        }
        Ok(config)
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

    fn store_with_shot(code: &str) -> Store {
        let mut store = Store::new();
        store
            .insert(
                "Shot",
                serde_json::json!({"code": code})
                    .as_object()
                    .cloned()
                    .unwrap(),
            )
            .unwrap();
        store
    }

    fn loaded_store(p: &Persister) -> Store {
        let mut data = p.load().unwrap().unwrap();
        Store::from_snapshot(data.take_store().unwrap())
    }

    #[test]
    fn torn_temp_file_never_corrupts_the_data_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.json");
        let p = Persister::new(&path);
        assert!(p.load().unwrap().is_none());
        p.save(vec![("store", store_with_shot("a").section_json())])
            .unwrap();
        // A crash mid-write leaves a torn temp file: the data file is untouched.
        fs::write(p.temp_path(), b"{\"version\":2,\"sto").unwrap();
        let loaded = loaded_store(&p);
        assert_eq!(loaded.display_name("Shot", 1).as_deref(), Some("a"));
        // The next save replaces the torn temp file.
        p.save(vec![("store", loaded.section_json())]).unwrap();
        assert!(!p.temp_path().exists());
        assert!(p.load().unwrap().is_some());
    }

    #[test]
    fn sections_are_kept_across_saves_of_other_sections() {
        let dir = tempfile::tempdir().unwrap();
        let p = Persister::new(dir.path().join("site.json"));
        p.save(vec![
            ("store", store_with_shot("a").section_json()),
            (
                "social",
                br#"{"follows":[[1,"Shot",1]],"last_accessed":[]}"#.to_vec(),
            ),
        ])
        .unwrap();
        p.save(vec![(
            "webhooks",
            br#"{"hooks":[],"deliveries":[]}"#.to_vec(),
        )])
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(p.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
        let data = p.load().unwrap().unwrap();
        assert_eq!(data.version, FORMAT_VERSION);
        assert_eq!(data.social.unwrap()["follows"][0][1], "Shot");
        assert!(data.webhooks.is_some());
        assert_eq!(
            loaded_store(&p).display_name("Shot", 1).as_deref(),
            Some("a")
        );
    }

    #[test]
    fn a_failed_save_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.json");
        let p = Persister::new(&path);
        p.save(vec![("store", store_with_shot("a").section_json())])
            .unwrap();
        // Make the temp file impossible to create: a directory in its place.
        fs::create_dir(p.temp_path()).unwrap();
        assert!(p
            .save(vec![("store", store_with_shot("b").section_json())])
            .is_err());
        fs::remove_dir(p.temp_path()).unwrap();
        assert_eq!(
            loaded_store(&p).display_name("Shot", 1).as_deref(),
            Some("a")
        );
        // The failed section is not written by the next save of another section.
        p.save(vec![(
            "social",
            br#"{"follows":[],"last_accessed":[]}"#.to_vec(),
        )])
        .unwrap();
        assert_eq!(
            loaded_store(&p).display_name("Shot", 1).as_deref(),
            Some("a")
        );
    }

    #[test]
    fn version_1_files_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.json");
        let v1 = serde_json::to_vec(&store_with_shot("old").snapshot()).unwrap();
        fs::write(&path, v1).unwrap();
        let p = Persister::new(&path);
        assert_eq!(
            loaded_store(&p).display_name("Shot", 1).as_deref(),
            Some("old")
        );
    }

    #[test]
    fn blobs_are_named_by_hash_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = Persister::new(dir.path().join("site.json"));
        let sha = crate::model::files::sha256_hex(b"hello");
        p.save_blob(&sha, &[&b"hel"[..], b"lo"]).unwrap();
        assert_eq!(p.load_blob(&sha).unwrap(), b"hello");
        assert!(p.save_blob("../escape", &[b"x"]).is_err());
        assert!(p.load_blob("../../etc/passwd").is_err());
        let mut used = std::collections::HashSet::new();
        p.remove_unused_blobs(&used);
        assert!(p.load_blob(&sha).is_err());
        used.insert(sha.clone());
        p.save_blob(&sha, &[&b"hel"[..], b"lo"]).unwrap();
        p.remove_unused_blobs(&used);
        assert!(p.load_blob(&sha).is_ok());
    }
}
