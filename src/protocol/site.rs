//! The site URL: validated once, then used as the base of every absolute URL.

use super::error::Error;

/// A validated site base URL such as `https://studio.shotgrid.autodesk.com`
/// (scheme, host and optional port; no path, query, fragment or credentials).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    base: String,
}

impl Site {
    /// Parses a site URL. A bare host (`studio.shotgrid.autodesk.com`) means https.
    /// Rejects credentials in the URL, paths other than `/`, queries and fragments.
    pub fn parse(input: &str) -> Result<Site, Error> {
        let bad = |why: &str| Error::invalid_input("site", why.to_owned());
        let s = input.trim();
        if s.is_empty() {
            return Err(bad(
                "must be the site URL, e.g. https://studio.shotgrid.autodesk.com",
            ));
        }
        let (scheme, rest) = match super::http::split_scheme(s) {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => ("https".to_owned(), s),
        };
        if scheme != "https" && scheme != "http" {
            return Err(bad("scheme must be http or https"));
        }
        if rest.contains(['?', '#']) {
            return Err(bad("must not contain a query or fragment"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if !(path.is_empty() || path == "/") {
            return Err(bad("must not contain a path (give the site root)"));
        }
        if authority.contains('@') {
            return Err(bad("must not contain credentials; pass them in `auth`"));
        }
        let (host, port) = split_host_port(authority).ok_or_else(|| bad("invalid host or port"))?;
        let host_ok = !host.is_empty()
            && (host.starts_with('[') && host.ends_with(']')
                || host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
        if !host_ok {
            return Err(bad("invalid host"));
        }
        let mut base = scheme;
        base.push_str("://");
        base.push_str(&host.to_ascii_lowercase());
        if let Some(p) = port {
            base.push(':');
            base.push_str(&crate::protocol::dec(p));
        }
        Ok(Site { base })
    }

    /// `scheme://host[:port]`, no trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Absolute URL of an API path such as `/api/v1/entity/shots/1`.
    pub fn url(&self, path: &str) -> String {
        let mut u = String::with_capacity(self.base.len() + path.len());
        u.push_str(&self.base);
        u.push_str(path);
        u
    }

    /// Whether `url` points at this site (same scheme, host and port). Used to decide
    /// whether the bearer token may be sent.
    pub fn owns(&self, url: &str) -> bool {
        url.strip_prefix(self.base.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
    }
}

fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (host, rest) = authority.split_at(end + 1);
        return match rest.strip_prefix(':') {
            Some(p) => Some((host, Some(port(p)?))),
            None if rest.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match crate::protocol::rsplit_ascii(authority, b':') {
        Some((host, p)) => Some((host, Some(port(p)?))),
        None => Some((authority, None)),
    }
}

/// A port number: read as a u64 (the .wasm's one integer parser), then narrowed.
fn port(p: &str) -> Option<u16> {
    u16::try_from(p.parse::<u64>().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_forms() {
        for (input, base) in [
            (
                "https://studio.shotgrid.autodesk.com",
                "https://studio.shotgrid.autodesk.com",
            ),
            (
                "https://Studio.ShotGunStudio.com/",
                "https://studio.shotgunstudio.com",
            ),
            (
                "studio.shotgrid.autodesk.com",
                "https://studio.shotgrid.autodesk.com",
            ),
            ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
            ("  http://localhost:1/ ", "http://localhost:1"),
            ("http://[::1]:8000", "http://[::1]:8000"),
        ] {
            assert_eq!(
                Site::parse(input).map(|s| s.base().to_owned()),
                Ok(base.to_owned()),
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_bad_sites() {
        for input in [
            "",
            "ftp://x",
            "https://user:pw@x.com",
            "https://x.com/api/v1",
            "https://x.com?token=1",
            "https://x.com:99999",
            "https://x.com:abc",
            "https://bad host",
            "https://",
        ] {
            let e = Site::parse(input).expect_err(input);
            assert_eq!(e.source, Some(crate::protocol::json::sj!("site")));
            assert!(!e.message().contains("pw@"), "{}", e.message());
        }
    }

    #[test]
    fn owns_only_same_origin() {
        let s = Site::parse("https://a.com").unwrap();
        assert!(s.owns("https://a.com/api/v1/x"));
        assert!(s.owns("https://a.com"));
        assert!(!s.owns("https://a.com.evil.net/x"));
        assert!(!s.owns("https://a.com:444/x"));
        assert!(!s.owns("http://a.com/x"));
        assert!(!s.owns("https://s3.amazonaws.com/a.com/x"));
    }
}
