//! The documented call frequencies: a sliding one-second window per endpoint, and the push
//! spacing and daily quota (computed from the recorded pushes, so they survive restarts).

use std::collections::{HashMap, VecDeque};

use tim_core::EndpointId;

use crate::model::PushRecord;

/// Beijing time (UTC+8), the day boundary of the daily push quota.
const DAY_OFFSET_MS: u64 = 8 * 3600 * 1000;
const DAY_MS: u64 = 86_400 * 1000;

/// Per-endpoint sliding windows of accepted calls.
#[derive(Debug, Default)]
pub(crate) struct Windows {
    calls: HashMap<EndpointId, VecDeque<u64>>,
}

impl Windows {
    /// Admits one call of `command` at `now_ms` if fewer than `per_second` were admitted in the
    /// second before it (`(now - 1000, now]`).
    pub(crate) fn admit(&mut self, command: EndpointId, per_second: u32, now_ms: u64) -> bool {
        let q = self.calls.entry(command).or_default();
        while q.front().is_some_and(|&t| t + 1000 <= now_ms || t > now_ms) {
            q.pop_front();
        }
        if q.len() >= per_second as usize {
            return false;
        }
        q.push_back(now_ms);
        true
    }
}

/// The calendar day (Beijing time) of a Unix millisecond.
pub(crate) fn quota_day(unix_ms: u64) -> u64 {
    (unix_ms + DAY_OFFSET_MS) / DAY_MS
}

/// Pushes made on the same quota day as `now_ms`.
pub(crate) fn pushes_today(pushes: &[PushRecord], now_ms: u64) -> usize {
    let today = quota_day(now_ms);
    pushes
        .iter()
        .rev()
        .take_while(|p| quota_day(p.at_unix_ms) >= today)
        .filter(|p| quota_day(p.at_unix_ms) == today)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_slides() {
        let mut w = Windows::default();
        for i in 0..100 {
            assert!(w.admit(EndpointId::AllMemberPushGetTag, 100, 10_000 + i));
        }
        assert!(!w.admit(EndpointId::AllMemberPushGetTag, 100, 10_500));
        assert!(
            w.admit(EndpointId::AllMemberPushAddTag, 100, 10_500),
            "per endpoint"
        );
        // The first call (10_000) leaves the window at 11_000.
        assert!(w.admit(EndpointId::AllMemberPushGetTag, 100, 11_000));
        assert!(!w.admit(EndpointId::AllMemberPushGetTag, 100, 11_000));
    }

    #[test]
    fn quota_day_is_beijing_time() {
        // 2024-01-01T15:59:59.999Z is 23:59:59.999 in Beijing; one ms later is the next day.
        let before = 1_704_124_799_999;
        assert_eq!(quota_day(before) + 1, quota_day(before + 1));
    }
}
