//! HTTPS for `--tls`: a rustls server configuration (the `ring` provider) offering ALPN
//! `h2` and `http/1.1`, with a certificate from PEM files or a self-signed one made at
//! start-up for `localhost`, `127.0.0.1` and `::1`.
//!
//! Real ShotGrid sites are served over HTTPS, where browsers multiplex every request to
//! the site over one HTTP/2 connection instead of at most 6 HTTP/1.1 connections; this
//! mode lets clients and benchmarks meet that. A client must trust the certificate: its
//! PEM ([`Tls::certificate_pem`], `--tls-cert-out`), or for Chromium the SHA-256 of its
//! public key ([`Tls::spki_sha256`], printed at start-up) with
//! `--ignore-certificate-errors-spki-list`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use sha2::{Digest, Sha256};
use tokio_rustls::rustls::crypto::ring::default_provider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// The names the self-signed certificate is valid for.
pub const SELF_SIGNED_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// ALPN protocol ids offered, in order of preference.
pub const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Where the certificate of `--tls` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsConfig {
    /// A self-signed certificate for [`SELF_SIGNED_NAMES`], made at start-up (a new key
    /// every start).
    SelfSigned,
    /// PEM files: the certificate chain (leaf first) and its private key (PKCS#8,
    /// PKCS#1 or SEC1).
    Pem {
        /// Certificate chain file.
        cert: PathBuf,
        /// Private key file.
        key: PathBuf,
    },
}

/// A ready server-side TLS setup.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
    certificate_pem: String,
    spki_sha256: Option<String>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("spki_sha256", &self.spki_sha256)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Builds the server configuration: loads or makes the certificate and checks that
    /// it matches its key.
    pub fn new(config: &TlsConfig) -> anyhow::Result<Tls> {
        let (chain, key, certificate_pem, spki) = match config {
            TlsConfig::SelfSigned => self_signed()?,
            TlsConfig::Pem { cert, key } => from_files(cert, key)?,
        };
        let mut server = ServerConfig::builder_with_provider(Arc::new(default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| anyhow::anyhow!("TLS certificate and key: {e}"))?;
        server.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(server)),
            certificate_pem,
            spki_sha256: spki.map(|der| spki_pin(&der)),
        })
    }

    /// The acceptor that runs the handshake on a new connection.
    pub fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }

    /// The certificate (chain) in PEM: the self-signed one, or the given file's text.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// Base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo, the form
    /// Chromium's `--ignore-certificate-errors-spki-list` takes. `None` when the key
    /// file's algorithm is one `rcgen` cannot read (RSA keys in PKCS#1 form).
    pub fn spki_sha256(&self) -> Option<&str> {
        self.spki_sha256.as_deref()
    }
}

/// `(chain, key, chain PEM, SPKI DER)`.
type Loaded = (
    Vec<CertificateDer<'static>>,
    PrivateKeyDer<'static>,
    String,
    Option<Vec<u8>>,
);

fn self_signed() -> anyhow::Result<Loaded> {
    let mut params = rcgen::CertificateParams::new(
        SELF_SIGNED_NAMES
            .iter()
            .map(|n| (*n).to_string())
            .collect::<Vec<_>>(),
    )?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "shotgrid-emulator");
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    let spki = key.public_key_der();
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((vec![cert.der().clone()], key_der, cert.pem(), Some(spki)))
}

fn from_files(cert: &Path, key: &Path) -> anyhow::Result<Loaded> {
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
    };
    let cert_text = read(cert)?;
    let key_text = read(key)?;
    let chain = CertificateDer::pem_slice_iter(cert_text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{}: not a PEM certificate chain: {e}", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("{}: no certificate in the file", cert.display());
    }
    let key_der = PrivateKeyDer::from_pem_slice(key_text.as_bytes())
        .map_err(|e| anyhow::anyhow!("{}: no PEM private key: {e}", key.display()))?;
    // The public key as the certificate has it (rustls checks below that they match).
    let spki = rcgen::KeyPair::from_pem(&key_text)
        .ok()
        .map(|k| k.public_key_der());
    Ok((chain, key_der, cert_text, spki))
}

fn spki_pin(spki_der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(spki_der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_offers_h2_then_http1_and_pins_its_key() {
        let tls = Tls::new(&TlsConfig::SelfSigned).unwrap();
        assert!(tls
            .certificate_pem()
            .starts_with("-----BEGIN CERTIFICATE-----"));
        // 32 bytes of SHA-256 in base64 with padding.
        assert_eq!(tls.spki_sha256().map(str::len), Some(44));
        // A new key every start.
        let other = Tls::new(&TlsConfig::SelfSigned).unwrap();
        assert_ne!(tls.spki_sha256(), other.spki_sha256());
    }

    #[test]
    fn pem_files_load_and_a_mismatched_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let b = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let other_key = dir.path().join("other.pem");
        std::fs::write(&cert, a.cert.pem()).unwrap();
        std::fs::write(&key, a.key_pair.serialize_pem()).unwrap();
        std::fs::write(&other_key, b.key_pair.serialize_pem()).unwrap();

        let tls = Tls::new(&TlsConfig::Pem {
            cert: cert.clone(),
            key: key.clone(),
        })
        .unwrap();
        assert_eq!(tls.certificate_pem(), a.cert.pem());
        assert_eq!(
            tls.spki_sha256(),
            Some(spki_pin(&a.key_pair.public_key_der()).as_str())
        );

        let err = Tls::new(&TlsConfig::Pem {
            cert: cert.clone(),
            key: other_key,
        })
        .unwrap_err();
        assert!(err.to_string().contains("certificate and key"), "{err}");
        let err = Tls::new(&TlsConfig::Pem {
            cert: key.clone(),
            key: key.clone(),
        })
        .unwrap_err();
        assert!(err.to_string().contains("no certificate"), "{err}");
        let err = Tls::new(&TlsConfig::Pem {
            cert: cert.clone(),
            key: cert,
        })
        .unwrap_err();
        assert!(err.to_string().contains("no PEM private key"), "{err}");
        let err = Tls::new(&TlsConfig::Pem {
            cert: dir.path().join("missing.pem"),
            key,
        })
        .unwrap_err();
        assert!(err.to_string().contains("reading"), "{err}");
    }
}
