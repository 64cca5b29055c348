//! The documented call frequencies, from each endpoint's `rate` in the spec: calls per second
//! and units per minute over sliding windows (stricter than any fixed-window server, so a
//! client that bursts at window edges is caught), and the daily quota and minimum spacing,
//! counted from the accepted calls stored with the state (so they survive restarts).

use std::collections::{HashMap, VecDeque};

use tim_core::{EndpointId, ErrorCode, RateLimit};

use crate::auth::documented;
use crate::config::Config;
use crate::reject::{Res, reject};
use crate::state::{State, quota_day};

/// Per-endpoint sliding windows of accepted calls (not stored: they reset on restart).
#[derive(Debug, Default)]
pub(crate) struct Windows {
    per_second: HashMap<EndpointId, VecDeque<u64>>,
    per_minute: HashMap<EndpointId, VecDeque<(u64, u32)>>,
}

impl Windows {
    /// Admits one call of `endpoint` at `now_ms` if fewer than `limit` were admitted in the
    /// second before it (`(now - 1000, now]`). Refused calls are not counted.
    pub(crate) fn admit_second(&mut self, endpoint: EndpointId, limit: u32, now_ms: u64) -> bool {
        let q = self.per_second.entry(endpoint).or_default();
        while q.front().is_some_and(|&t| t + 1000 <= now_ms || t > now_ms) {
            q.pop_front();
        }
        if q.len() >= limit as usize {
            return false;
        }
        q.push_back(now_ms);
        true
    }

    /// Admits a call costing `cost` units if the units admitted in the minute before `now_ms`
    /// plus `cost` stay within `limit`.
    pub(crate) fn admit_minute(
        &mut self,
        endpoint: EndpointId,
        limit: u32,
        cost: u32,
        now_ms: u64,
    ) -> bool {
        let q = self.per_minute.entry(endpoint).or_default();
        while q
            .front()
            .is_some_and(|&(t, _)| t + 60_000 <= now_ms || t > now_ms)
        {
            q.pop_front();
        }
        let used: u64 = q.iter().map(|&(_, c)| u64::from(c)).sum();
        if used + u64::from(cost) > u64::from(limit) {
            return false;
        }
        q.push_back((now_ms, cost));
        true
    }
}

/// The per-second check, before the body is read.
pub(crate) fn per_second(
    windows: &mut Windows,
    config: &Config,
    id: EndpointId,
    now_ms: u64,
) -> Res<()> {
    let Some(limit) = id.info().rate.per_second.filter(|_| config.rate_limits) else {
        return Ok(());
    };
    if windows.admit_second(id, limit, now_ms) {
        Ok(())
    } else {
        Err(reject(
            ErrorCode::RateLimited,
            format!("REST API call frequency over limit ({limit} per second for {id})"),
        ))
    }
}

/// The per-minute budget, once the call's cost (the length of the list it is counted by) is
/// known.
pub(crate) fn per_minute(
    windows: &mut Windows,
    config: &Config,
    id: EndpointId,
    cost: u32,
    now_ms: u64,
) -> Res<()> {
    let rate = id.info().rate;
    let Some(limit) = rate.per_minute.filter(|_| config.rate_limits) else {
        return Ok(());
    };
    if windows.admit_minute(id, limit, cost, now_ms) {
        Ok(())
    } else {
        let unit = rate.counted_by.unwrap_or("calls");
        Err(reject(
            ErrorCode::RateLimited,
            format!("REST API call frequency over limit ({limit} {unit} per minute for {id})"),
        ))
    }
}

/// The daily quota of `id`: its spec's, except `im_push`, whose quota is
/// [`Config::daily_push_quota`] (raisable by ticket on the real service).
fn per_day(config: &Config, id: EndpointId, rate: &RateLimit) -> Option<u32> {
    let day = rate.per_day?;
    let push = id.service() == "all_member_push" && id.command() == "im_push";
    Some(if push { config.daily_push_quota } else { day })
}

/// Whether calls of `id` are recorded as accepted (it has a daily quota or a minimum spacing).
pub(crate) fn counted(id: EndpointId) -> bool {
    let rate = id.info().rate;
    rate.per_day.is_some() || rate.min_interval.is_some()
}

/// The minimum spacing and the daily quota, against the calls accepted so far. Checked under
/// the state's lock, after the service had the chance to recognise a repeat (a repeated push is
/// answered as the first one, whatever the spacing).
pub(crate) fn spacing_and_quota(
    state: &State,
    config: &Config,
    id: EndpointId,
    now_ms: u64,
) -> Res<()> {
    if !counted(id) {
        return Ok(());
    }
    let rate = id.info().rate;
    let accepted = state
        .accepted
        .get(&id.to_string())
        .map_or(&[][..], Vec::as_slice);
    if let (Some(gap), true) = (rate.min_interval, config.push_spacing) {
        let gap = u64::try_from(gap.as_millis()).unwrap_or(u64::MAX);
        if let Some(&last) = accepted.last() {
            if now_ms.saturating_sub(last) <= gap {
                // The endpoint's own code when its page lists one (90024 for im_push).
                let code = documented(id, &[ErrorCode::PushTooFrequent], ErrorCode::RateLimited);
                let info = crate::reject::sample_info(code).map_or_else(
                    || format!("calls of {id} must be more than {gap} ms apart"),
                    str::to_owned,
                );
                return Err(reject(code, info));
            }
        }
    }
    if let (Some(quota), true) = (per_day(config, id, &rate), config.rate_limits) {
        let today = quota_day(now_ms);
        let used = accepted.iter().filter(|t| quota_day(**t) == today).count();
        if used >= quota as usize {
            let code = documented(
                id,
                &[ErrorCode::DailyPushQuotaExceeded],
                ErrorCode::RateLimited,
            );
            return Err(reject(
                code,
                format!("daily quota of {quota} calls of {id} is used up"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_window_slides() {
        let mut w = Windows::default();
        for i in 0..100 {
            assert!(w.admit_second(EndpointId::AllMemberPushGetTag, 100, 10_000 + i));
        }
        assert!(!w.admit_second(EndpointId::AllMemberPushGetTag, 100, 10_500));
        assert!(
            w.admit_second(EndpointId::AllMemberPushAddTag, 100, 10_500),
            "per endpoint"
        );
        // The first call (10_000) leaves the window at 11_000.
        assert!(w.admit_second(EndpointId::AllMemberPushGetTag, 100, 11_000));
        assert!(!w.admit_second(EndpointId::AllMemberPushGetTag, 100, 11_000));
    }

    #[test]
    fn minute_window_counts_units() {
        let mut w = Windows::default();
        let id = EndpointId::AllMemberPushGetTag;
        assert!(w.admit_minute(id, 500, 300, 0));
        assert!(!w.admit_minute(id, 500, 201, 59_999), "300 + 201 > 500");
        assert!(w.admit_minute(id, 500, 200, 59_999));
        assert!(w.admit_minute(id, 500, 300, 60_000), "the first 300 left");
    }
}
