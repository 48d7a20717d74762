//! One HTTP exchange and the mapping of everything that can go wrong onto
//! [`BackendError`]. No retries here: the runner owns them.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::types::BackendError;

/// A failed exchange, with whether it was a connect-phase failure (which counts toward
/// taking the endpoint out).
pub(crate) struct Failure {
    pub error: BackendError,
    pub connect_phase: bool,
}

impl From<BackendError> for Failure {
    fn from(error: BackendError) -> Self {
        Failure {
            error,
            connect_phase: false,
        }
    }
}

/// Sends a request and returns the body of a 2xx reply.
pub(crate) async fn exchange(
    req: reqwest::RequestBuilder,
    url: &str,
    timeout: Duration,
) -> Result<bytes::Bytes, Failure> {
    let resp = req.send().await.map_err(|e| send_error(e, url, timeout))?;
    let status = resp.status();
    let retry_after = parse_retry_after(resp.headers(), SystemTime::now());
    let body = resp.bytes().await.map_err(|e| {
        if e.is_timeout() {
            Failure::from(BackendError::Timeout {
                url: url.to_string(),
                secs: timeout.as_secs_f64(),
            })
        } else {
            Failure::from(BackendError::Connect {
                url: url.to_string(),
                message: format!("connection dropped while reading the reply ({})", chain(&e)),
            })
        }
    })?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        let mut short: String = text.chars().take(300).collect();
        if short.len() < text.len() {
            short.push_str("...");
        }
        return Err(Failure::from(BackendError::Http {
            status: status.as_u16(),
            url: url.to_string(),
            body: short,
            retry_after,
        }));
    }
    Ok(body)
}

/// reqwest hides the useful part (`connection refused`, `connection closed before
/// message completed`) in the source chain.
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

fn send_error(e: reqwest::Error, url: &str, timeout: Duration) -> Failure {
    if e.is_timeout() {
        // A connect timeout is a connect-phase failure; reqwest reports both as timeouts.
        let connect_phase = e.is_connect();
        return Failure {
            error: BackendError::Timeout {
                url: url.to_string(),
                secs: timeout.as_secs_f64(),
            },
            connect_phase,
        };
    }
    if e.is_connect() {
        return Failure {
            error: BackendError::Connect {
                url: url.to_string(),
                message: chain(&e),
            },
            connect_phase: true,
        };
    }
    // The server took the connection and then closed it (or reset it) before replying.
    Failure {
        error: BackendError::Connect {
            url: url.to_string(),
            message: format!("connection dropped before a reply ({})", chain(&e)),
        },
        connect_phase: false,
    }
}

/// `Retry-After` as delta-seconds or an HTTP date (RFC 9110 section 10.2.3).
pub fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut h = HeaderMap::new();
        assert_eq!(parse_retry_after(&h, now), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(parse_retry_after(&h, now), Some(Duration::from_secs(7)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("1.5"));
        assert_eq!(
            parse_retry_after(&h, now),
            Some(Duration::from_millis(1500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        assert_eq!(parse_retry_after(&h, now), Some(Duration::from_secs(30)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&past).unwrap());
        assert_eq!(parse_retry_after(&h, now), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(parse_retry_after(&h, now), None);
    }
}
