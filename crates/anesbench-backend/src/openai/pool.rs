//! The endpoint pool: least-outstanding-requests selection with atomic counters, and
//! taking an endpoint out after repeated connection failures.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::Serialize;

/// One endpoint's state, for reports (`OpenAiBackend::endpoint_health`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointHealth {
    /// Normalised base URL (no trailing `/v1`).
    pub url: String,
    /// `false` once taken out of rotation.
    pub alive: bool,
    pub in_flight: usize,
    /// Requests answered with a parsed body.
    pub ok: u64,
    /// Requests that failed for any reason.
    pub errors: u64,
    pub consecutive_connect_failures: u32,
    /// The latest error message, if any.
    pub last_error: Option<String>,
    /// Model ids the endpoint listed at the readiness check.
    pub models: Vec<String>,
}

pub(crate) struct Endpoint {
    pub base: String,
    in_flight: AtomicUsize,
    ok: AtomicU64,
    errors: AtomicU64,
    connect_failures: AtomicU32,
    dead: AtomicBool,
    last_error: Mutex<Option<String>>,
    pub models: Mutex<Vec<String>>,
}

/// Decrements the in-flight counter when the request ends, also when its future is
/// dropped (runner timeout, cancellation).
pub(crate) struct Lease<'a> {
    pub ep: &'a Endpoint,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.ep.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

pub(crate) struct Pool {
    pub endpoints: Vec<Endpoint>,
    /// Rotates the scan start so ties do not always go to the first endpoint.
    cursor: AtomicUsize,
    dead_after: u32,
}

/// What a finished request tells the pool.
pub(crate) enum Outcome<'a> {
    Ok,
    /// Connect-phase failure: counts toward taking the endpoint out.
    ConnectFailure(&'a str),
    /// Any other failure (HTTP status, timeout, dropped mid-request, bad body): the
    /// server accepted the connection, so it is alive.
    OtherFailure(&'a str),
}

impl Pool {
    pub fn new(bases: Vec<String>, dead_after: u32) -> Self {
        let endpoints = bases
            .into_iter()
            .map(|base| Endpoint {
                base,
                in_flight: AtomicUsize::new(0),
                ok: AtomicU64::new(0),
                errors: AtomicU64::new(0),
                connect_failures: AtomicU32::new(0),
                dead: AtomicBool::new(false),
                last_error: Mutex::new(None),
                models: Mutex::new(Vec::new()),
            })
            .collect();
        Pool {
            endpoints,
            cursor: AtomicUsize::new(0),
            dead_after: dead_after.max(1),
        }
    }

    /// The live endpoint with the fewest requests in flight, already counted as one more.
    /// `None` when every endpoint is out.
    pub fn acquire(&self) -> Option<Lease<'_>> {
        let n = self.endpoints.len();
        let start = self.cursor.fetch_add(1, Ordering::Relaxed);
        let mut best: Option<(&Endpoint, usize)> = None;
        for k in 0..n {
            let ep = &self.endpoints[(start + k) % n];
            if ep.dead.load(Ordering::Relaxed) {
                continue;
            }
            let load = ep.in_flight.load(Ordering::Relaxed);
            if best.is_none_or(|(_, b)| load < b) {
                best = Some((ep, load));
            }
        }
        // Two callers may pick the same endpoint between load and increment; the skew is
        // one request and corrects itself on the next pick.
        best.map(|(ep, _)| {
            ep.in_flight.fetch_add(1, Ordering::Relaxed);
            Lease { ep }
        })
    }

    pub fn record(&self, ep: &Endpoint, outcome: Outcome<'_>) {
        match outcome {
            Outcome::Ok => {
                ep.ok.fetch_add(1, Ordering::Relaxed);
                ep.connect_failures.store(0, Ordering::Relaxed);
            }
            Outcome::ConnectFailure(msg) => {
                ep.errors.fetch_add(1, Ordering::Relaxed);
                *ep.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(msg.to_string());
                let n = ep.connect_failures.fetch_add(1, Ordering::Relaxed) + 1;
                if n >= self.dead_after {
                    ep.dead.store(true, Ordering::Relaxed);
                }
            }
            Outcome::OtherFailure(msg) => {
                ep.errors.fetch_add(1, Ordering::Relaxed);
                ep.connect_failures.store(0, Ordering::Relaxed);
                *ep.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(msg.to_string());
            }
        }
    }

    pub fn mark_dead(&self, ep: &Endpoint, msg: &str) {
        *ep.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(msg.to_string());
        ep.dead.store(true, Ordering::Relaxed);
    }

    pub fn revive(&self, ep: &Endpoint) {
        ep.connect_failures.store(0, Ordering::Relaxed);
        ep.dead.store(false, Ordering::Relaxed);
    }

    pub fn health(&self) -> Vec<EndpointHealth> {
        self.endpoints
            .iter()
            .map(|ep| EndpointHealth {
                url: ep.base.clone(),
                alive: !ep.dead.load(Ordering::Relaxed),
                in_flight: ep.in_flight.load(Ordering::Relaxed),
                ok: ep.ok.load(Ordering::Relaxed),
                errors: ep.errors.load(Ordering::Relaxed),
                consecutive_connect_failures: ep.connect_failures.load(Ordering::Relaxed),
                last_error: ep
                    .last_error
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone(),
                models: ep.models.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            })
            .collect()
    }

    /// `url (last error)` for every endpoint, for `NoEndpoint` messages.
    pub fn dead_summary(&self) -> String {
        self.health()
            .iter()
            .map(|h| {
                format!(
                    "{} ({})",
                    h.url,
                    h.last_error.as_deref().unwrap_or("taken out")
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_least_loaded_and_skips_dead() {
        let pool = Pool::new(vec!["a".into(), "b".into()], 2);
        let l1 = pool.acquire().unwrap();
        let l2 = pool.acquire().unwrap();
        assert_ne!(
            l1.ep.base, l2.ep.base,
            "second request goes to the idle endpoint"
        );
        drop(l1);
        let l3 = pool.acquire().unwrap();
        assert_ne!(l3.ep.base, l2.ep.base, "freed endpoint has less load");
        let b = &pool.endpoints[1];
        pool.record(b, Outcome::ConnectFailure("refused"));
        assert!(pool.health()[1].alive);
        pool.record(b, Outcome::ConnectFailure("refused"));
        assert!(!pool.health()[1].alive);
        drop((l2, l3));
        for _ in 0..5 {
            assert_eq!(pool.acquire().unwrap().ep.base, "a");
        }
        pool.record(&pool.endpoints[0], Outcome::ConnectFailure("x"));
        pool.record(&pool.endpoints[0], Outcome::OtherFailure("500"));
        pool.record(&pool.endpoints[0], Outcome::ConnectFailure("x"));
        assert!(
            pool.health()[0].alive,
            "a non-connect failure resets the streak"
        );
        pool.record(&pool.endpoints[0], Outcome::ConnectFailure("x"));
        assert!(pool.acquire().is_none());
        assert!(pool.dead_summary().contains("a (x)"));
    }
}
