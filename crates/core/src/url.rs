//! Where requests go: a region's host, or a custom base URL (an emulator, a proxy).

use std::fmt;
use std::net::IpAddr;

use http::Uri;
use http::uri::{Authority, Scheme};

use crate::generated::Region;

/// The scheme, host, port and optional path prefix that requests are sent to.
///
/// `https` is required, except for loopback hosts (`localhost`, `127.0.0.0/8`, `::1`), where
/// plain `http` is allowed so that tests can use a local emulator.
///
/// ```
/// use tim_core::{BaseUrl, Region};
/// assert_eq!(BaseUrl::from(Region::Singapore).to_string(), "https://adminapisgp.im.qcloud.com");
/// assert!(BaseUrl::parse("http://127.0.0.1:8080").is_ok());
/// assert!(BaseUrl::parse("http://example.com").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// `scheme://authority[/prefix]` without a trailing slash.
    text: String,
    /// The scheme and authority of `text`, parsed once so that building a request only parses
    /// its path and query.
    scheme: Scheme,
    authority: Authority,
    /// Where the path prefix starts in `text` (`text.len()` when there is none).
    prefix_at: usize,
}

/// Why a base URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BaseUrlError {
    /// Not a URL.
    #[error("not a valid URL: {0:?}")]
    Invalid(String),
    /// Plain HTTP to a host that is not loopback.
    #[error("plain http is only allowed for loopback hosts (use https): {0:?}")]
    InsecureHost(String),
    /// A scheme other than http or https.
    #[error("unsupported scheme {0:?} (use https)")]
    Scheme(String),
    /// The URL has a query or fragment.
    #[error("a base URL cannot have a query or fragment")]
    QueryNotAllowed,
    /// The URL carries credentials (`user:password@host`). The error does not repeat them.
    #[error("a base URL cannot carry credentials (user:password@): remove them")]
    Credentials,
}

/// Whether the authority part of `url` (what comes after `scheme://` up to the first `/`) has
/// user information (`user:password@`). Checked on the raw text, before parsing, so that no
/// error message ever repeats a password.
fn has_userinfo(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or("").contains('@')
}

fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl BaseUrl {
    /// Parses and checks a base URL such as `https://console.tim.qq.com` or
    /// `http://127.0.0.1:9000`.
    pub fn parse(url: &str) -> Result<Self, BaseUrlError> {
        let url = url.trim();
        if url.contains('?') || url.contains('#') {
            return Err(BaseUrlError::QueryNotAllowed);
        }
        if has_userinfo(url) {
            return Err(BaseUrlError::Credentials);
        }
        let uri: Uri = url
            .parse()
            .map_err(|_| BaseUrlError::Invalid(url.to_owned()))?;
        let scheme = uri
            .scheme_str()
            .ok_or_else(|| BaseUrlError::Invalid(url.to_owned()))?;
        let host = uri
            .host()
            .ok_or_else(|| BaseUrlError::Invalid(url.to_owned()))?;
        match scheme {
            "https" => {}
            "http" if is_loopback(host) => {}
            "http" => return Err(BaseUrlError::InsecureHost(host.to_owned())),
            other => return Err(BaseUrlError::Scheme(other.to_owned())),
        }
        let authority = uri.authority().map(|a| a.as_str()).unwrap_or(host);
        if authority.contains('@') {
            return Err(BaseUrlError::Credentials);
        }
        let prefix = uri.path().trim_end_matches('/');
        let text = format!("{scheme}://{authority}{prefix}");
        // Parsed again from the normalised text, so that the parts are exactly those of `text`.
        let parts = text
            .parse::<Uri>()
            .map_err(|_| BaseUrlError::Invalid(url.to_owned()))?
            .into_parts();
        let (Some(scheme), Some(authority)) = (parts.scheme, parts.authority) else {
            return Err(BaseUrlError::Invalid(url.to_owned()));
        };
        Ok(Self {
            prefix_at: text.len() - prefix.len(),
            text,
            scheme,
            authority,
        })
    }

    /// The base URL as text, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The scheme, e.g. `https`.
    pub(crate) fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// The host and port.
    pub(crate) fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The path prefix (empty, or starting with `/` and without a trailing slash).
    pub(crate) fn prefix(&self) -> &str {
        &self.text[self.prefix_at..]
    }

    /// Whether the host is a loopback address.
    pub fn is_loopback(&self) -> bool {
        self.text
            .parse::<Uri>()
            .ok()
            .and_then(|u| u.host().map(is_loopback))
            .unwrap_or(false)
    }
}

impl From<Region> for BaseUrl {
    fn from(region: Region) -> Self {
        let text = format!("https://{}", region.host());
        Self {
            prefix_at: text.len(),
            text,
            scheme: Scheme::HTTPS,
            authority: Authority::from_static(region.host()),
        }
    }
}

impl std::str::FromStr for BaseUrl {
    type Err = BaseUrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for BaseUrl {
    type Error = BaseUrlError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl TryFrom<String> for BaseUrl {
    type Error = BaseUrlError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({:?})", self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        assert_eq!(
            BaseUrl::parse("https://h.example/").unwrap().as_str(),
            "https://h.example"
        );
        assert_eq!(
            BaseUrl::parse("https://h.example/api/").unwrap().as_str(),
            "https://h.example/api"
        );
        assert_eq!(
            BaseUrl::parse("http://localhost:1").unwrap().as_str(),
            "http://localhost:1"
        );
        assert_eq!(
            BaseUrl::parse("http://[::1]:1").unwrap().as_str(),
            "http://[::1]:1"
        );
        assert!(BaseUrl::parse("http://127.3.2.1").unwrap().is_loopback());
    }

    #[test]
    fn parts_match_the_text() {
        for (url, scheme, authority, prefix) in [
            ("https://h.example/api/", "https", "h.example", "/api"),
            ("http://127.0.0.1:8080", "http", "127.0.0.1:8080", ""),
            ("http://[::1]:1/a/b", "http", "[::1]:1", "/a/b"),
        ] {
            let b = BaseUrl::parse(url).unwrap();
            assert_eq!(b.scheme().as_str(), scheme);
            assert_eq!(b.authority().as_str(), authority);
            assert_eq!(b.prefix(), prefix);
            assert_eq!(b.as_str(), format!("{scheme}://{authority}{prefix}"));
        }
        let china = BaseUrl::from(Region::China);
        assert_eq!(china, BaseUrl::parse("https://console.tim.qq.com").unwrap());
        assert_eq!(china.prefix(), "");
    }

    #[test]
    fn refuses_insecure_and_odd_urls() {
        assert!(matches!(
            BaseUrl::parse("http://10.0.0.1"),
            Err(BaseUrlError::InsecureHost(_))
        ));
        assert!(matches!(
            BaseUrl::parse("ftp://h"),
            Err(BaseUrlError::Scheme(_))
        ));
        assert!(matches!(
            BaseUrl::parse("https://h/?a=b"),
            Err(BaseUrlError::QueryNotAllowed)
        ));
        assert!(matches!(
            BaseUrl::parse("not a url"),
            Err(BaseUrlError::Invalid(_))
        ));
        assert!(BaseUrl::parse("http://localhost.evil.com").is_err());
        assert!(BaseUrl::parse("https://user:pw@h").is_err());
    }

    #[test]
    fn errors_never_repeat_credentials() {
        for url in [
            "https://user:hunter2@h.example",
            "https://user:hunter2@h.example/api",
            "http://user:hunter2@127.0.0.1:9000",
            "https://us er:hunter2@h.example",
            "user:hunter2@h.example",
        ] {
            let err = BaseUrl::parse(url).unwrap_err();
            assert_eq!(err, BaseUrlError::Credentials, "{url}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
        // An '@' in the path is not user information.
        assert!(BaseUrl::parse("https://h.example/a@b").is_ok());
        assert_eq!(
            BaseUrl::try_from("http://127.0.0.1:1").unwrap(),
            BaseUrl::try_from(String::from("http://127.0.0.1:1/")).unwrap()
        );
    }
}
