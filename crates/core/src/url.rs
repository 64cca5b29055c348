//! Where requests go: a region's host, or a custom base URL (an emulator, a proxy).

use std::fmt;
use std::net::IpAddr;

use http::Uri;

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
            return Err(BaseUrlError::Invalid(url.to_owned()));
        }
        let prefix = uri.path().trim_end_matches('/');
        Ok(Self {
            text: format!("{scheme}://{authority}{prefix}"),
        })
    }

    /// The base URL as text, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.text
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
        Self {
            text: format!("https://{}", region.host()),
        }
    }
}

impl std::str::FromStr for BaseUrl {
    type Err = BaseUrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
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
}
