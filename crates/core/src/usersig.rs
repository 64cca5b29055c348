//! UserSig (TLSSigAPIv2): generation and verification, compatible with Tencent's official
//! `tls-sig-api-v2` libraries in both directions.
//!
//! A UserSig is `base64url'(zlib(JSON))` where the JSON holds the identifier, SDKAppID, issue
//! time, validity and `TLS.sig`, an HMAC-SHA256 (keyed with the secret key's UTF-8 bytes) over
//! the lines `TLS.identifier:…\nTLS.sdkappid:…\nTLS.time:…\nTLS.expire:…\n`. `base64url'` is
//! standard Base64 with `+`→`*`, `/`→`-`, `=`→`_`.
//!
//! The clock is always passed in (`time`, `now`): nothing here reads the system time.

use std::io::{Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::{DecodePaddingMode, GeneralPurpose as Gp};
use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::{SecretKey, UserSig};

type HmacSha256 = Hmac<Sha256>;

/// Lenient standard Base64: accepts input with or without padding (Node's library re-pads,
/// others keep it).
const LENIENT: GeneralPurpose = Gp::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The largest inflated UserSig we accept; real ones are a few hundred bytes.
const MAX_INFLATED: u64 = 16 * 1024;

/// The validity the official libraries use by default: 180 days.
pub const DEFAULT_EXPIRE_SECS: u64 = 180 * 86_400;

/// The fields carried inside a UserSig, as decoded (before or after verification).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Claims {
    /// `TLS.ver`, "2.0" for TLSSigAPIv2.
    pub version: String,
    /// `TLS.identifier`: the UserID the UserSig was issued for.
    pub identifier: String,
    /// `TLS.sdkappid`.
    pub sdkappid: u64,
    /// `TLS.time`: issue time, Unix seconds.
    pub time: u64,
    /// `TLS.expire`: validity in seconds after `time`.
    pub expire: u64,
    /// `TLS.userbuf`, decoded, when present (TRTC room permissions; unused by IM REST).
    pub userbuf: Option<Vec<u8>>,
}

impl Claims {
    /// The last Unix second at which the UserSig is still valid (`time + expire`).
    pub fn expires_at(&self) -> u64 {
        self.time.saturating_add(self.expire)
    }

    /// Whether the UserSig has expired at `now` (Unix seconds): true iff `now > time + expire`.
    pub fn is_expired_at(&self, now: u64) -> bool {
        now > self.expires_at()
    }
}

/// Why a UserSig is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The string is not a UserSig: not Base64, not zlib, not JSON or missing a field.
    #[error("malformed UserSig: {0}")]
    Malformed(MalformedReason),
    /// It was issued for another SDKAppID.
    #[error("UserSig was issued for SDKAppID {found}, expected {expected}")]
    SdkAppIdMismatch {
        /// The SDKAppID the caller expected.
        expected: u64,
        /// The SDKAppID inside the UserSig.
        found: u64,
    },
    /// It was issued for another identifier.
    #[error("UserSig was issued for identifier {found:?}, expected {expected:?}")]
    IdentifierMismatch {
        /// The identifier the caller expected.
        expected: String,
        /// The identifier inside the UserSig.
        found: String,
    },
    /// The HMAC does not match: it was signed with another key, or altered.
    #[error("UserSig signature does not match the key")]
    BadSignature,
    /// The signature is right but the validity period is over.
    #[error("UserSig expired at {expired_at} (now {now})")]
    Expired {
        /// `time + expire`, Unix seconds.
        expired_at: u64,
        /// The time of the check, Unix seconds.
        now: u64,
    },
}

/// What exactly is malformed about a UserSig.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedReason {
    /// The string is empty.
    #[error("it is empty")]
    Empty,
    /// Not valid (substituted) Base64.
    #[error("not base64")]
    NotBase64,
    /// Base64 of something that is not a zlib stream, or one that inflates beyond 16 KiB.
    #[error("not a zlib stream")]
    NotZlib,
    /// The inflated bytes are not a JSON object.
    #[error("not a JSON object")]
    NotJson,
    /// A required field is missing or has the wrong type.
    #[error("field {0} missing or invalid")]
    Field(&'static str),
}

fn hmac_input(
    identifier: &str,
    sdkappid: u64,
    time: u64,
    expire: u64,
    userbuf_b64: Option<&str>,
) -> String {
    let mut s = format!(
        "TLS.identifier:{identifier}\nTLS.sdkappid:{sdkappid}\nTLS.time:{time}\nTLS.expire:{expire}\n"
    );
    if let Some(b) = userbuf_b64 {
        s.push_str("TLS.userbuf:");
        s.push_str(b);
        s.push('\n');
    }
    s
}

fn mac(key: &SecretKey, input: &str) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key.expose().as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC-SHA256 takes keys of any length"),
    };
    mac.update(input.as_bytes());
    mac
}

fn escape(b64: &str) -> String {
    b64.chars()
        .map(|c| match c {
            '+' => '*',
            '/' => '-',
            '=' => '_',
            c => c,
        })
        .collect()
}

fn unescape(sig: &str) -> String {
    sig.chars()
        .map(|c| match c {
            '*' => '+',
            '-' => '/',
            '_' => '=',
            c => c,
        })
        .collect()
}

/// Generates a UserSig for `identifier`, issued at `time` (Unix seconds) and valid for `expire`
/// seconds after it.
///
/// ```
/// use tim_core::{SecretKey, usersig};
/// let key = SecretKey::new("my-secret-key");
/// let sig = usersig::generate(1400000000, &key, "administrator", 1_700_000_000, 86_400);
/// let claims = usersig::verify(sig.expose(), 1400000000, "administrator", &key, 1_700_000_100).unwrap();
/// assert_eq!(claims.expires_at(), 1_700_086_400);
/// ```
pub fn generate(
    sdkappid: u64,
    key: &SecretKey,
    identifier: &str,
    time: u64,
    expire: u64,
) -> UserSig {
    generate_inner(sdkappid, key, identifier, time, expire, None)
}

/// Like [`generate`], with a `userbuf` (TRTC's PrivateMapKey payload) signed in.
pub fn generate_with_userbuf(
    sdkappid: u64,
    key: &SecretKey,
    identifier: &str,
    time: u64,
    expire: u64,
    userbuf: &[u8],
) -> UserSig {
    generate_inner(sdkappid, key, identifier, time, expire, Some(userbuf))
}

fn generate_inner(
    sdkappid: u64,
    key: &SecretKey,
    identifier: &str,
    time: u64,
    expire: u64,
    userbuf: Option<&[u8]>,
) -> UserSig {
    let userbuf_b64 = userbuf.map(|b| STANDARD.encode(b));
    let input = hmac_input(identifier, sdkappid, time, expire, userbuf_b64.as_deref());
    let sig = STANDARD.encode(mac(key, &input).finalize().into_bytes());
    let mut doc = serde_json::Map::new();
    doc.insert("TLS.ver".into(), "2.0".into());
    doc.insert("TLS.identifier".into(), identifier.into());
    doc.insert("TLS.sdkappid".into(), sdkappid.into());
    doc.insert("TLS.expire".into(), expire.into());
    doc.insert("TLS.time".into(), time.into());
    if let Some(b) = userbuf_b64 {
        doc.insert("TLS.userbuf".into(), b.into());
    }
    doc.insert("TLS.sig".into(), sig.into());
    let json = serde_json::Value::Object(doc).to_string();
    let mut z = ZlibEncoder::new(Vec::with_capacity(json.len()), Compression::default());
    // Writing to a Vec cannot fail.
    let compressed = match z.write_all(json.as_bytes()).and_then(|()| z.finish()) {
        Ok(c) => c,
        Err(_) => unreachable!("zlib into a Vec cannot fail"),
    };
    UserSig::new(escape(&STANDARD.encode(compressed)))
}

fn u64_field(
    doc: &serde_json::Map<String, serde_json::Value>,
    name: &'static str,
) -> Result<u64, VerifyError> {
    let bad = || VerifyError::Malformed(MalformedReason::Field(name));
    match doc.get(name) {
        Some(serde_json::Value::Number(n)) => n.as_u64().ok_or_else(bad),
        // Some older signers wrote numbers as strings; the value is what counts.
        Some(serde_json::Value::String(s)) => s.parse().map_err(|_| bad()),
        _ => Err(bad()),
    }
}

fn str_field<'a>(
    doc: &'a serde_json::Map<String, serde_json::Value>,
    name: &'static str,
) -> Result<&'a str, VerifyError> {
    doc.get(name)
        .and_then(|v| v.as_str())
        .ok_or(VerifyError::Malformed(MalformedReason::Field(name)))
}

struct Decoded {
    claims: Claims,
    userbuf_b64: Option<String>,
    sig: Vec<u8>,
}

fn decode_full(sig: &str) -> Result<Decoded, VerifyError> {
    use MalformedReason as M;
    let sig = sig.trim();
    if sig.is_empty() {
        return Err(VerifyError::Malformed(M::Empty));
    }
    let compressed = LENIENT
        .decode(unescape(sig))
        .map_err(|_| VerifyError::Malformed(M::NotBase64))?;
    let mut json = Vec::new();
    ZlibDecoder::new(compressed.as_slice())
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut json)
        .map_err(|_| VerifyError::Malformed(M::NotZlib))?;
    if json.len() as u64 > MAX_INFLATED {
        return Err(VerifyError::Malformed(M::NotZlib));
    }
    let doc: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&json).map_err(|_| VerifyError::Malformed(M::NotJson))?;
    let userbuf_b64 = match doc.get("TLS.userbuf") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(VerifyError::Malformed(M::Field("TLS.userbuf"))),
    };
    let userbuf = match &userbuf_b64 {
        Some(b) => Some(
            LENIENT
                .decode(b)
                .map_err(|_| VerifyError::Malformed(M::Field("TLS.userbuf")))?,
        ),
        None => None,
    };
    let claims = Claims {
        version: str_field(&doc, "TLS.ver")?.to_owned(),
        identifier: str_field(&doc, "TLS.identifier")?.to_owned(),
        sdkappid: u64_field(&doc, "TLS.sdkappid")?,
        time: u64_field(&doc, "TLS.time")?,
        expire: u64_field(&doc, "TLS.expire")?,
        userbuf,
    };
    let sig = LENIENT
        .decode(str_field(&doc, "TLS.sig")?)
        .map_err(|_| VerifyError::Malformed(M::Field("TLS.sig")))?;
    Ok(Decoded {
        claims,
        userbuf_b64,
        sig,
    })
}

/// Decodes a UserSig's claims without checking its signature or expiry.
///
/// Useful to show what a UserSig says; never to trust it. Use [`verify`] for that.
pub fn decode(sig: &str) -> Result<Claims, VerifyError> {
    decode_full(sig).map(|d| d.claims)
}

/// Verifies a UserSig for `sdkappid` and `identifier` with `key`, at time `now` (Unix seconds).
///
/// Checks, in order: well-formedness, SDKAppID, identifier, signature, expiry. The signature is
/// checked before expiry so that a forged UserSig never learns more than "bad signature".
///
/// ```
/// use tim_core::{SecretKey, usersig::{self, VerifyError}};
/// let key = SecretKey::new("k");
/// let sig = usersig::generate(1400000000, &key, "admin", 1_000, 60);
/// assert_eq!(
///     usersig::verify(sig.expose(), 1400000000, "admin", &key, 1_061),
///     Err(VerifyError::Expired { expired_at: 1_060, now: 1_061 })
/// );
/// assert_eq!(
///     usersig::verify(sig.expose(), 1400000000, "admin", &SecretKey::new("other"), 1_000),
///     Err(VerifyError::BadSignature)
/// );
/// ```
pub fn verify(
    sig: &str,
    sdkappid: u64,
    identifier: &str,
    key: &SecretKey,
    now: u64,
) -> Result<Claims, VerifyError> {
    let d = decode_full(sig)?;
    let c = &d.claims;
    if c.sdkappid != sdkappid {
        return Err(VerifyError::SdkAppIdMismatch {
            expected: sdkappid,
            found: c.sdkappid,
        });
    }
    if c.identifier != identifier {
        return Err(VerifyError::IdentifierMismatch {
            expected: identifier.to_owned(),
            found: c.identifier.clone(),
        });
    }
    let input = hmac_input(
        &c.identifier,
        c.sdkappid,
        c.time,
        c.expire,
        d.userbuf_b64.as_deref(),
    );
    mac(key, &input)
        .verify_slice(&d.sig)
        .map_err(|_| VerifyError::BadSignature)?;
    if c.is_expired_at(now) {
        return Err(VerifyError::Expired {
            expired_at: c.expires_at(),
            now,
        });
    }
    Ok(d.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let key = SecretKey::new("k");
        let sig = generate(1, &key, "a", 10, 5);
        assert!(
            sig.expose()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "*-_".contains(c))
        );
        let claims = verify(sig.expose(), 1, "a", &key, 15).unwrap();
        assert_eq!(
            (claims.time, claims.expire, claims.version.as_str()),
            (10, 5, "2.0")
        );
        assert_eq!(
            verify(sig.expose(), 2, "a", &key, 10),
            Err(VerifyError::SdkAppIdMismatch {
                expected: 2,
                found: 1
            })
        );
        assert!(matches!(
            verify(sig.expose(), 1, "b", &key, 10),
            Err(VerifyError::IdentifierMismatch { .. })
        ));
        assert_eq!(
            verify("", 1, "a", &key, 10),
            Err(VerifyError::Malformed(MalformedReason::Empty))
        );
        assert_eq!(
            verify("!!!", 1, "a", &key, 10),
            Err(VerifyError::Malformed(MalformedReason::NotBase64))
        );
        assert_eq!(
            verify("aGVsbG8_", 1, "a", &key, 10),
            Err(VerifyError::Malformed(MalformedReason::NotZlib))
        );
    }

    #[test]
    fn userbuf_is_signed() {
        let key = SecretKey::new("k");
        let sig = generate_with_userbuf(1, &key, "a", 10, 5, b"\x00\x01room");
        let claims = verify(sig.expose(), 1, "a", &key, 10).unwrap();
        assert_eq!(claims.userbuf.as_deref(), Some(&b"\x00\x01room"[..]));
    }
}
