//! One HTTP exchange and the mapping of everything that can go wrong onto
//! [`BackendError`]. No retries here: the runner owns them.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::redact::{redact_error_body, redact_text};
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

/// Per-backend limits and secrets every exchange applies.
pub(crate) struct Limits {
    pub timeout: Duration,
    /// Largest 2xx body read; a bigger one is `BadBody`.
    pub max_body: usize,
    /// Strings masked out of every message (API key, URL passwords, query values).
    pub secrets: Vec<String>,
}

/// How much of a non-2xx body is read (only a snippet is kept).
const ERROR_BODY_READ: usize = 64 << 10;

/// Sends a request and returns the body of a 2xx reply. `url` is the redacted URL, used
/// in errors; the request itself carries the real one.
pub(crate) async fn exchange(
    req: reqwest::RequestBuilder,
    url: &str,
    limits: &Limits,
) -> Result<bytes::Bytes, Failure> {
    let timeout = limits.timeout;
    let mut resp = req
        .send()
        .await
        .map_err(|e| send_error(e, url, timeout, &limits.secrets))?;
    let status = resp.status();
    let retry_after = parse_retry_after(resp.headers(), SystemTime::now());
    let cap = if status.is_success() {
        limits.max_body
    } else {
        ERROR_BODY_READ.min(limits.max_body)
    };
    let too_big = || {
        Failure::from(BackendError::BadBody {
            url: url.to_string(),
            message: format!(
                "reply body is larger than the {} byte limit (hint: raise max_body_bytes if this server's replies are really that big)",
                limits.max_body
            ),
        })
    };
    if status.is_success() && resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_big());
    }
    let mut body = bytes::BytesMut::new();
    loop {
        let chunk = resp.chunk().await.map_err(|e| {
            if e.is_timeout() {
                Failure::from(BackendError::Timeout {
                    url: url.to_string(),
                    secs: timeout.as_secs_f64(),
                })
            } else {
                Failure::from(BackendError::Connect {
                    url: url.to_string(),
                    message: format!(
                        "connection dropped while reading the reply ({})",
                        chain(&e.without_url(), &limits.secrets)
                    ),
                })
            }
        })?;
        let Some(chunk) = chunk else { break };
        if body.len() + chunk.len() > cap {
            if status.is_success() {
                // Dropping the response closes the connection mid-body.
                return Err(too_big());
            }
            let room = cap - body.len();
            body.extend_from_slice(&chunk[..room]);
            break;
        }
        body.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        return Err(Failure::from(BackendError::Http {
            status: status.as_u16(),
            url: url.to_string(),
            body: redact_error_body(&body, &limits.secrets),
            retry_after,
        }));
    }
    Ok(body.freeze())
}

/// reqwest hides the useful part (`connection refused`, `connection closed before
/// message completed`) in the source chain.
/// Messages are scrubbed of `secrets` (reqwest's own message may hold the URL).
fn chain(e: &dyn std::error::Error, secrets: &[String]) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    redact_text(&parts.join(": "), secrets)
}

fn send_error(e: reqwest::Error, url: &str, timeout: Duration, secrets: &[String]) -> Failure {
    let e = e.without_url();
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
                message: chain(&e, secrets),
            },
            connect_phase: true,
        };
    }
    // The server took the connection and then closed it (or reset it) before replying.
    Failure {
        error: BackendError::Connect {
            url: url.to_string(),
            message: format!("connection dropped before a reply ({})", chain(&e, secrets)),
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
