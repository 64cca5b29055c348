//! Secret values that must never be printed: the app's secret key and UserSigs.

use std::fmt;
use std::sync::Arc;

const REDACTED: &str = "<redacted>";

/// The app's secret key (the "key" shown in the Chat console).
///
/// Its `Debug` and `Display` never show the key; read it with [`SecretKey::expose`].
///
/// ```
/// use tim_core::SecretKey;
/// let key = SecretKey::new("5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e");
/// assert_eq!(format!("{key:?}"), "SecretKey(<redacted>)");
/// assert_eq!(key.to_string(), "<redacted>");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Arc<str>);

impl SecretKey {
    /// Wraps a key. The key is used as given (its UTF-8 bytes), never hex-decoded.
    pub fn new(key: impl Into<String>) -> Self {
        Self(Arc::from(key.into()))
    }

    /// The key itself. Only for signing; never print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretKey {
    fn from(key: String) -> Self {
        Self::new(key)
    }
}

impl From<&str> for SecretKey {
    fn from(key: &str) -> Self {
        Self::new(key)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({REDACTED})")
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// A UserSig: the signature that authenticates the admin account of every REST call.
///
/// It rides in the URL query, so it is as secret as the key while it is valid. `Debug` and
/// `Display` never show it; read it with [`UserSig::expose`]. Cloning is cheap.
///
/// ```
/// use tim_core::UserSig;
/// let sig = UserSig::new("eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwsGpRcbGBlBhVEF0qKFgpfycnJ3cA");
/// assert!(!format!("{sig:?}").contains("eJyr"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct UserSig {
    sig: Arc<str>,
    /// Whether the UserSig goes into a query value as it is (TLSSigAPIv2 UserSigs always do),
    /// decided once here rather than on every request.
    query_safe: bool,
}

impl UserSig {
    /// Wraps a UserSig made elsewhere (for example by `tls-sig-api-v2`).
    pub fn new(sig: impl Into<String>) -> Self {
        let sig: Arc<str> = Arc::from(sig.into());
        let query_safe = crate::codec::is_query_safe(&sig);
        Self { sig, query_safe }
    }

    /// The UserSig itself. Only for building requests; never print it.
    pub fn expose(&self) -> &str {
        &self.sig
    }

    /// Whether [`UserSig::expose`] needs no percent-encoding in a query value.
    pub(crate) fn is_query_safe(&self) -> bool {
        self.query_safe
    }
}

impl From<String> for UserSig {
    fn from(sig: String) -> Self {
        Self::new(sig)
    }
}

impl From<&str> for UserSig {
    fn from(sig: &str) -> Self {
        Self::new(sig)
    }
}

impl fmt::Debug for UserSig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserSig({REDACTED})")
    }
}

impl fmt::Display for UserSig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Replaces the value of every `usersig` query parameter in `url` with `<redacted>`.
///
/// Use it on any URL that may reach a log line or an error message.
///
/// ```
/// use tim_core::redact_url;
/// let url = "https://console.tim.qq.com/v4/all_member_push/im_get_tag?sdkappid=1400000000&identifier=administrator&usersig=eJyrVgrx&random=7&contenttype=json";
/// assert_eq!(
///     redact_url(url),
///     "https://console.tim.qq.com/v4/all_member_push/im_get_tag?sdkappid=1400000000&identifier=administrator&usersig=<redacted>&random=7&contenttype=json"
/// );
/// ```
pub fn redact_url(url: &str) -> String {
    let Some((head, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let (query, fragment) = match query.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (query, None),
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(head);
    out.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        let name = pair.split_once('=').map_or(pair, |(n, _)| n);
        if name.eq_ignore_ascii_case("usersig") {
            out.push_str(name);
            out.push('=');
            out.push_str(REDACTED);
        } else {
            out.push_str(pair);
        }
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_usersig_parameter_case_insensitively() {
        let url = "http://127.0.0.1:1/v4/x/y?UserSig=abc&usersig=def&usersigx=keep#frag";
        let out = redact_url(url);
        assert!(!out.contains("abc") && !out.contains("def"), "{out}");
        assert!(
            out.contains("usersigx=keep") && out.ends_with("#frag"),
            "{out}"
        );
    }

    #[test]
    fn url_without_query_is_unchanged() {
        assert_eq!(redact_url("https://a/b"), "https://a/b");
    }
}
