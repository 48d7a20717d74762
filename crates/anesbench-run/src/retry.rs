//! Bounded retries with exponential backoff and jitter, honouring `Retry-After`.

use std::future::Future;
use std::time::Duration;

use anesbench_backend::BackendError;
use rand::Rng;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff; doubles per retry.
    pub base: Duration,
    /// Backoff ceiling (a server's `Retry-After` may ask for more, up to `max_retry_after`).
    pub max_backoff: Duration,
    /// Longest `Retry-After` honoured; longer requests are capped here.
    pub max_retry_after: Duration,
    /// Per-attempt timeout.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: crate::settings::DEFAULT_MAX_RETRIES,
            base: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            timeout: Duration::from_secs_f64(crate::settings::DEFAULT_TIMEOUT_SECS),
        }
    }
}

impl RetryPolicy {
    /// Wait before retry number `retry` (1-based) after `err`: "equal jitter" over the
    /// exponential step (half fixed, half random, so concurrent clients spread out but
    /// never retry at once), and never less than the server's `Retry-After`.
    pub fn delay(&self, retry: u32, err: &BackendError) -> Duration {
        let step = self
            .base
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20))
            .min(self.max_backoff);
        let half = step / 2;
        let jitter = if half.is_zero() {
            Duration::ZERO
        } else {
            rand::rng().random_range(Duration::ZERO..=half)
        };
        let backoff = half + jitter;
        match err.retry_after() {
            Some(ra) => backoff.max(ra.min(self.max_retry_after)),
            None => backoff,
        }
    }
}

/// A retry about to happen, for progress sinks.
#[derive(Debug, Clone)]
pub struct RetryNotice {
    pub retry: u32,
    pub wait: Duration,
    pub error: String,
}

/// Call `f` until it succeeds, fails with a non-retryable error, or runs out of retries.
/// Each attempt is bounded by `policy.timeout`. Returns the outcome and attempts made.
pub async fn with_retries<T, F, Fut>(
    policy: &RetryPolicy,
    what: &str,
    f: F,
    on_retry: impl FnMut(RetryNotice),
) -> (Result<T, BackendError>, u32)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, BackendError>>,
{
    with_retries_gated(policy, what, None, f, on_retry).await
}

/// [`with_retries`], where each attempt first waits for a permit of `gate` (a backend's
/// capacity, such as the embedded engine's one context): the timeout starts once the
/// permit is held, so time spent queued for the engine never counts against a request.
pub async fn with_retries_gated<T, F, Fut>(
    policy: &RetryPolicy,
    what: &str,
    gate: Option<&tokio::sync::Semaphore>,
    mut f: F,
    mut on_retry: impl FnMut(RetryNotice),
) -> (Result<T, BackendError>, u32)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, BackendError>>,
{
    let mut attempts = 0;
    loop {
        attempts += 1;
        let permit = match gate {
            Some(g) => g.acquire().await.ok(),
            None => None,
        };
        let res = match tokio::time::timeout(policy.timeout, f()).await {
            Ok(r) => r,
            Err(_) => Err(BackendError::Timeout {
                url: what.to_string(),
                secs: policy.timeout.as_secs_f64(),
            }),
        };
        match res {
            Ok(v) => return (Ok(v), attempts),
            Err(e) if e.retryable() && attempts <= policy.max_retries => {
                drop(permit);
                let wait = policy.delay(attempts, &e);
                on_retry(RetryNotice {
                    retry: attempts,
                    wait,
                    error: e.to_string(),
                });
                tokio::time::sleep(wait).await;
            }
            Err(e) => return (Err(e), attempts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            base: Duration::from_millis(1),
            max_backoff: Duration::from_millis(4),
            max_retry_after: Duration::from_millis(50),
            timeout: Duration::from_millis(100),
        }
    }

    fn http(status: u16, ra: Option<Duration>) -> BackendError {
        BackendError::Http {
            status,
            url: "u".into(),
            body: String::new(),
            retry_after: ra,
        }
    }

    #[test]
    fn delay_grows_is_capped_and_honours_retry_after() {
        let p = RetryPolicy {
            base: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            ..fast()
        };
        let e = http(500, None);
        for _ in 0..50 {
            let d1 = p.delay(1, &e);
            assert!(
                d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100),
                "{d1:?}"
            );
            let d10 = p.delay(10, &e);
            assert!(
                d10 >= Duration::from_millis(500) && d10 <= Duration::from_secs(1),
                "{d10:?}"
            );
        }
        let ra = http(429, Some(Duration::from_millis(30)));
        assert!(p.delay(1, &ra) >= Duration::from_millis(30));
        let huge = http(429, Some(Duration::from_secs(3600)));
        assert!(
            p.delay(1, &huge) <= Duration::from_millis(100),
            "Retry-After is capped at max_retry_after"
        );
    }

    #[tokio::test]
    async fn retries_retryable_errors_then_succeeds() {
        let calls = AtomicU32::new(0);
        let mut notices = 0;
        let (r, attempts) = with_retries(
            &fast(),
            "u",
            || async {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(http(503, None))
                } else {
                    Ok(7)
                }
            },
            |_| notices += 1,
        )
        .await;
        assert_eq!(r.unwrap(), 7);
        assert_eq!((attempts, notices), (3, 2));
    }

    #[tokio::test]
    async fn gives_up_after_max_retries_and_never_retries_4xx() {
        let (r, attempts) = with_retries(
            &fast(),
            "u",
            || async { Err::<(), _>(http(500, None)) },
            |_| {},
        )
        .await;
        assert!(r.is_err());
        assert_eq!(attempts, 4);
        let (r, attempts) = with_retries(
            &fast(),
            "u",
            || async { Err::<(), _>(http(400, None)) },
            |_| {},
        )
        .await;
        assert!(r.is_err());
        assert_eq!(attempts, 1);
    }

    #[tokio::test]
    async fn a_hang_becomes_a_timeout_and_is_retried() {
        let calls = AtomicU32::new(0);
        let (r, attempts) = with_retries(
            &fast(),
            "http://x",
            || async {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
                Ok(1)
            },
            |n| assert!(n.error.contains("timed out"), "{}", n.error),
        )
        .await;
        assert_eq!((r.unwrap(), attempts), (1, 2));
    }
}
