//! The admin UserSig, cached and renewed ahead of expiry.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use crate::secret::{SecretKey, UserSig};
use crate::usersig;

/// Where the admin UserSig comes from.
#[derive(Clone, Debug)]
enum Source {
    Key(SecretKey),
    Fixed(UserSig),
}

#[derive(Clone)]
struct Cached {
    sig: UserSig,
    issued_at: u64,
}

/// Produces the admin UserSig for each call: signs with the key, caches the result, and signs
/// anew once the cached one is within `renew_before` of its expiry (or after
/// [`Signer::invalidate`], e.g. on a 70001 answer).
///
/// Thread-safe and cheap to share; it has no background task: renewal happens inside
/// [`Signer::usersig`], with the clock the caller passes in.
///
/// ```
/// use std::time::Duration;
/// use tim_core::{SecretKey, Signer};
/// let signer = Signer::with_key(1400000000, "administrator", SecretKey::new("k"))
///     .with_validity(Duration::from_secs(86_400))
///     .with_renew_before(Duration::from_secs(3_600));
/// let first = signer.usersig(1_700_000_000);
/// assert_eq!(signer.usersig(1_700_000_000 + 60), first); // cached
/// assert_ne!(signer.usersig(1_700_000_000 + 86_400 - 3_600), first); // renewed ahead of expiry
/// ```
pub struct Signer {
    sdkappid: u64,
    identifier: String,
    source: Source,
    validity: u64,
    renew_before: u64,
    cache: Mutex<Option<Cached>>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("sdkappid", &self.sdkappid)
            .field("identifier", &self.identifier)
            .field("source", &self.source)
            .field("validity_secs", &self.validity)
            .field("renew_before_secs", &self.renew_before)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Default validity of a UserSig the signer makes: 7 days (Tencent recommends at least 24 h).
    pub const DEFAULT_VALIDITY: Duration = Duration::from_secs(7 * 86_400);
    /// Default margin before expiry at which the signer signs anew: 1 hour.
    pub const DEFAULT_RENEW_BEFORE: Duration = Duration::from_secs(3_600);

    /// A signer that signs with the app's secret key.
    pub fn with_key(sdkappid: u64, identifier: impl Into<String>, key: SecretKey) -> Self {
        Self::new(sdkappid, identifier.into(), Source::Key(key))
    }

    /// A signer that always hands out the same UserSig (made elsewhere); it cannot renew it.
    pub fn with_fixed(sdkappid: u64, identifier: impl Into<String>, sig: UserSig) -> Self {
        Self::new(sdkappid, identifier.into(), Source::Fixed(sig))
    }

    fn new(sdkappid: u64, identifier: String, source: Source) -> Self {
        Self {
            sdkappid,
            identifier,
            source,
            validity: Self::DEFAULT_VALIDITY.as_secs(),
            renew_before: Self::DEFAULT_RENEW_BEFORE.as_secs(),
            cache: Mutex::new(None),
        }
    }

    /// Sets how long each UserSig the signer makes is valid (at least 2 seconds).
    pub fn with_validity(mut self, validity: Duration) -> Self {
        self.validity = validity.as_secs().max(2);
        self
    }

    /// Sets how long before expiry the signer signs anew. Clamped to half the validity.
    pub fn with_renew_before(mut self, margin: Duration) -> Self {
        self.renew_before = margin.as_secs();
        self
    }

    /// The app's SDKAppID.
    pub fn sdkappid(&self) -> u64 {
        self.sdkappid
    }

    /// The admin identifier the UserSig is for.
    pub fn identifier(&self) -> &str {
        &self.identifier
    }

    /// Whether the signer holds a key (and so can re-sign after a 70001 answer).
    pub fn can_resign(&self) -> bool {
        matches!(self.source, Source::Key(_))
    }

    /// The UserSig to use at `now` (Unix seconds): the cached one, or a new one when the cached
    /// one is missing, invalidated, or within the renewal margin of its expiry.
    pub fn usersig(&self, now: u64) -> UserSig {
        let key = match &self.source {
            Source::Fixed(sig) => return sig.clone(),
            Source::Key(key) => key,
        };
        let margin = self.renew_before.min(self.validity / 2);
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.as_ref() {
            let renew_at = c.issued_at.saturating_add(self.validity - margin);
            // A clock that went backwards also forces a new signature.
            if now >= c.issued_at && now < renew_at {
                return c.sig.clone();
            }
        }
        let sig = usersig::generate(self.sdkappid, key, &self.identifier, now, self.validity);
        tracing::debug!(identifier = %self.identifier, issued_at = now, validity = self.validity, "signed a new admin UserSig");
        *cache = Some(Cached {
            sig: sig.clone(),
            issued_at: now,
        });
        sig
    }

    /// Drops the cached UserSig so that the next [`Signer::usersig`] signs anew.
    /// Returns whether a new one can be made (false for a fixed UserSig).
    pub fn invalidate(&self) -> bool {
        *self.cache.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.can_resign()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_signer_never_changes_and_cannot_resign() {
        let s = Signer::with_fixed(1, "a", UserSig::new("x"));
        assert_eq!(s.usersig(1).expose(), "x");
        assert!(!s.invalidate());
        assert_eq!(s.usersig(10_000_000).expose(), "x");
    }

    #[test]
    fn invalidate_forces_resign_and_clock_going_back_resigns() {
        let s = Signer::with_key(1, "a", SecretKey::new("k"));
        let a = s.usersig(100);
        assert!(s.invalidate());
        let b = s.usersig(101);
        assert_ne!(a, b);
        let c = s.usersig(50);
        assert_ne!(b, c);
        let claims = usersig::decode(c.expose()).unwrap();
        assert_eq!(claims.time, 50);
    }

    #[test]
    fn renewal_margin_is_clamped_to_half_the_validity() {
        let s = Signer::with_key(1, "a", SecretKey::new("k"))
            .with_validity(Duration::from_secs(100))
            .with_renew_before(Duration::from_secs(1_000));
        let a = s.usersig(0);
        assert_eq!(s.usersig(49), a);
        assert_ne!(s.usersig(50), a);
    }
}
