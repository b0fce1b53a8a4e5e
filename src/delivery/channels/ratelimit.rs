//! A sliding-window limiter: at most `limit` sends in any 60 seconds. Robots reject
//! (and sometimes mute) senders that go faster, so we refuse first and tell the
//! dispatcher when to come back. Uses the monotonic clock, not the wall clock.
//!
//! Why not `governor`: its GCRA quota is a rate with a burst, not a window. Measured
//! (a greedy sender polling every 100 ms on governor 0.10's fake clock),
//! `Quota::per_minute(20)` let 39 messages through in the first 60 s: a burst of 20
//! and then one every 3 s. WeCom and DingTalk count 20 messages in any minute and
//! mute a robot that sends more, so this keeps the exact sliding window; the test
//! `greedy_sender_never_exceeds_the_window` checks that property.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: usize,
    sent: Mutex<VecDeque<Instant>>,
}

impl RateLimiter {
    pub(crate) fn per_minute(limit: u32) -> Self {
        RateLimiter {
            limit: limit as usize,
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// Reserves `n` slots at once, or says how long until they would all fit.
    /// Asking for more than the limit can never succeed: `Err(None)`.
    pub(crate) fn try_acquire(&self, n: usize) -> Result<(), Option<Duration>> {
        self.try_acquire_at(n, Instant::now())
    }

    pub(crate) fn try_acquire_at(&self, n: usize, now: Instant) -> Result<(), Option<Duration>> {
        if n > self.limit {
            return Err(None);
        }
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(&t) = sent.front() {
            if now.duration_since(t) >= WINDOW {
                sent.pop_front();
            } else {
                break;
            }
        }
        if sent.len() + n <= self.limit {
            for _ in 0..n {
                sent.push_back(now);
            }
            Ok(())
        } else {
            // The slot that must expire for n more to fit.
            let must_expire = sent.len() + n - self.limit - 1;
            let t = sent[must_expire];
            Err(Some(
                (t + WINDOW)
                    .saturating_duration_since(now)
                    .max(Duration::from_millis(1)),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window() {
        let l = RateLimiter::per_minute(2);
        let t0 = Instant::now();
        assert!(l.try_acquire_at(1, t0).is_ok());
        assert!(l.try_acquire_at(1, t0 + Duration::from_secs(10)).is_ok());
        let wait = l
            .try_acquire_at(1, t0 + Duration::from_secs(20))
            .unwrap_err();
        assert_eq!(wait, Some(Duration::from_secs(40)));
        assert!(l.try_acquire_at(1, t0 + Duration::from_secs(60)).is_ok());
        assert!(l.try_acquire_at(1, t0 + Duration::from_secs(61)).is_err());
        assert_eq!(l.try_acquire_at(3, t0), Err(None));
    }

    #[test]
    fn multi_slot_wait_is_for_the_right_slot() {
        let l = RateLimiter::per_minute(3);
        let t0 = Instant::now();
        for s in 0..3 {
            l.try_acquire_at(1, t0 + Duration::from_secs(s)).unwrap();
        }
        // Two more need the two oldest gone: the second expires at t0+61.
        let wait = l
            .try_acquire_at(2, t0 + Duration::from_secs(5))
            .unwrap_err();
        assert_eq!(wait, Some(Duration::from_secs(56)));
    }

    #[test]
    fn greedy_sender_never_exceeds_the_window() {
        let l = RateLimiter::per_minute(20);
        let t0 = Instant::now();
        let mut sent = Vec::new();
        for step in 0..3000u64 {
            let now = t0 + Duration::from_millis(100 * step);
            while l.try_acquire_at(1, now).is_ok() {
                sent.push(step);
            }
        }
        // 300 s of greedy sending: 20 per minute, never more in any 60 s.
        assert_eq!(sent.len(), 100);
        for (i, &s) in sent.iter().enumerate() {
            let in_window = sent[i..].iter().take_while(|&&t| t < s + 600).count();
            assert!(
                in_window <= 20,
                "{in_window} sends in the 60 s from step {s}"
            );
        }
    }
}
