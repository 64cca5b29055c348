//! Building the client from the global options, and turning its errors into exit codes.

use std::time::Duration;

use serde_json::{Value, json};
use tim_core::{
    Client, ClientBuilder, Error, ErrorKind, MakeTransport, RateLimits, SecretKey, Transport,
    UserSig,
};

use tim_redis_limiter::RedisLimiter;

use crate::Failure;
use crate::args::{Global, MaxRate};

/// A client over transport `T` from the global options.
pub(crate) async fn build<T: Transport + MakeTransport>(
    g: &Global,
    max_rate: Option<MaxRate>,
) -> Result<Client<T>, Failure> {
    let sdkappid = g
        .sdkappid
        .ok_or_else(|| Failure::Usage("--sdkappid (or TIM_SDKAPPID) is required".into()))?;
    let mut b = ClientBuilder::<T>::new()
        .with_sdkappid(sdkappid)
        .with_identifier(g.identifier.clone());
    b = match (&g.usersig, &g.key) {
        (Some(sig), _) if !sig.is_empty() => b.with_usersig(UserSig::new(sig.clone())),
        (_, Some(key)) if !key.is_empty() => b.with_secret_key(SecretKey::new(key.clone())),
        _ => {
            return Err(Failure::Usage(
                "a credential is required: --key (TIM_SECRET_KEY) or --usersig (TIM_USERSIG)"
                    .into(),
            ));
        }
    };
    b = match &g.endpoint {
        Some(url) => b.with_base_url(url.clone()),
        None => b.with_region(g.region),
    };
    if let Some(secs) = g.timeout {
        if !(secs.is_finite() && secs > 0.0) {
            return Err(Failure::Usage(format!(
                "--timeout must be a positive number of seconds, got {secs}"
            )));
        }
        let limit = Duration::from_secs_f64(secs);
        b = b
            .with_timeout(limit)
            .with_retry_policy(tim_core::RetryPolicy::default().with_max_elapsed(limit));
    }
    let limits = match max_rate {
        None => RateLimits::documented(),
        Some(MaxRate::Off) => RateLimits::off(),
        Some(MaxRate::PerSecond(n)) => RateLimits::documented().with_per_second(n),
    };
    b = b.with_rate_limits(limits);
    if let Some(url) = g
        .rate_limit_redis
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    {
        b = b.with_shared_limiter(redis_limiter(url, limits).await?);
    }
    b.build()
        .map_err(|e| Failure::Usage(format!("cannot build the client: {e}")))
}

/// The Redis limiter of `--rate-limit-redis`, checked at once: a malformed URL is a usage
/// error (exit 2), an unreachable Redis a transport one (exit 3); neither shows the password.
async fn redis_limiter(url: &str, limits: RateLimits) -> Result<RedisLimiter, Failure> {
    let limiter = RedisLimiter::new(url)
        .map_err(|e| Failure::Usage(format!("--rate-limit-redis: {}", chain(&e))))?
        .with_rate_limits(limits);
    limiter
        .check()
        .await
        .map_err(|e| Failure::Transport(format!("--rate-limit-redis: {}", chain(&e))))?;
    Ok(limiter)
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        // Some errors show their source already: do not repeat it.
        if !msg.ends_with(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

/// The exit-code class of a call's error, with a message that names the cause.
pub(crate) fn failure(e: &Error) -> Failure {
    let msg = chain(e);
    match e.kind() {
        ErrorKind::Api(_) => Failure::Api(msg),
        ErrorKind::Invalid(_) | ErrorKind::Config(_) | ErrorKind::Encode(_) => Failure::Usage(msg),
        ErrorKind::RateLimiter(tim_core::LimiterError::DailyBudgetSpent { .. }) => {
            Failure::Api(msg)
        }
        _ => Failure::Transport(msg),
    }
}

/// The envelope to print for an API error (the client keeps the code and info).
pub(crate) fn error_envelope(e: &Error) -> Option<Value> {
    match e.kind() {
        ErrorKind::Api(api) => Some(json!({
            "ActionStatus": "FAIL",
            "ErrorCode": api.code().code(),
            "ErrorInfo": api.info(),
        })),
        _ => None,
    }
}
