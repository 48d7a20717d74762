//! The endpoint pool: least-outstanding-requests selection with atomic counters,
//! taking an endpoint out after repeated connection failures, and probing it again
//! with exponential backoff so it comes back when its server does.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::redact::redact_url;

use serde::Serialize;

/// One endpoint's state, for reports (`OpenAiBackend::endpoint_health`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointHealth {
    /// Normalised base URL (no trailing `/v1`), redacted ([`crate::redact_url`]).
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
    /// For an endpoint taken out: seconds until it is probed again (0 when due).
    pub next_probe_in_s: Option<f64>,
}

pub(crate) struct Endpoint {
    /// Real base URL, credentials included, without the query.
    pub base: String,
    /// Query string (without `?`) appended to every request URL.
    pub query: Option<String>,
    /// Redacted base URL (with the query, values masked): what is ever shown.
    pub shown: String,
    /// Milliseconds after [`Pool::epoch`] when a dead endpoint may be probed.
    next_probe_ms: AtomicU64,
    /// Current probe backoff in milliseconds.
    backoff_ms: AtomicU64,
    /// A probe is in flight (only one at a time per endpoint).
    probing: AtomicBool,
    in_flight: AtomicUsize,
    ok: AtomicU64,
    errors: AtomicU64,
    connect_failures: AtomicU32,
    dead: AtomicBool,
    last_error: Mutex<Option<String>>,
    pub models: Mutex<Vec<String>>,
    /// Whether the server keeps `n` (several choices per request): [`N_UNKNOWN`],
    /// [`N_KEPT`] or [`N_IGNORED`].
    pub n_choices: AtomicU8,
}

pub(crate) const N_UNKNOWN: u8 = 0;
pub(crate) const N_KEPT: u8 = 1;
pub(crate) const N_IGNORED: u8 = 2;

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

impl Endpoint {
    /// The real request URL for `path` (`/v1/...`), query appended.
    pub fn url(&self, path: &str) -> String {
        match &self.query {
            Some(q) => format!("{}{path}?{q}", self.base),
            None => format!("{}{path}", self.base),
        }
    }

    /// The redacted URL for `path`, for messages.
    pub fn shown_url(&self, path: &str) -> String {
        redact_url(&self.url(path))
    }
}

/// When taken-out endpoints are probed again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

pub(crate) struct Pool {
    pub endpoints: Vec<Endpoint>,
    /// Rotates the scan start so ties do not always go to the first endpoint.
    cursor: AtomicUsize,
    dead_after: u32,
    backoff: Backoff,
    epoch: Instant,
}

/// A claimed probe of a dead endpoint; releases the claim when dropped unfinished.
pub(crate) struct ProbeClaim<'a> {
    pub ep: &'a Endpoint,
    pub index: usize,
}

impl Drop for ProbeClaim<'_> {
    fn drop(&mut self) {
        self.ep.probing.store(false, Ordering::Release);
    }
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
    #[cfg(test)]
    pub fn new(bases: Vec<String>, dead_after: u32) -> Self {
        Self::with_backoff(bases, dead_after, Backoff::default())
    }

    /// `bases` as from `normalize_base` (query, if any, after the path).
    pub fn with_backoff(bases: Vec<String>, dead_after: u32, backoff: Backoff) -> Self {
        let initial_ms = (backoff.initial.as_millis() as u64).max(1);
        let endpoints = bases
            .into_iter()
            .map(|full| {
                let (base, query) = match full.split_once('?') {
                    Some((b, q)) => (b.to_string(), Some(q.to_string())),
                    None => (full.clone(), None),
                };
                (redact_url(&full), base, query)
            })
            .map(|(shown, base, query)| Endpoint {
                base,
                query,
                shown,
                next_probe_ms: AtomicU64::new(0),
                backoff_ms: AtomicU64::new(initial_ms),
                probing: AtomicBool::new(false),
                in_flight: AtomicUsize::new(0),
                ok: AtomicU64::new(0),
                errors: AtomicU64::new(0),
                connect_failures: AtomicU32::new(0),
                dead: AtomicBool::new(false),
                last_error: Mutex::new(None),
                models: Mutex::new(Vec::new()),
                n_choices: AtomicU8::new(N_UNKNOWN),
            })
            .collect();
        Pool {
            endpoints,
            cursor: AtomicUsize::new(0),
            dead_after: dead_after.max(1),
            backoff,
            epoch: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Whether any endpoint is in rotation.
    pub fn any_alive(&self) -> bool {
        self.endpoints
            .iter()
            .any(|e| !e.dead.load(Ordering::Relaxed))
    }

    /// Takes `ep` out (if it was in) and schedules its first probe one backoff from now.
    fn take_out(&self, ep: &Endpoint) {
        if !ep.dead.swap(true, Ordering::AcqRel) {
            let wait = ep.backoff_ms.load(Ordering::Relaxed);
            ep.next_probe_ms
                .store(self.now_ms() + wait, Ordering::Relaxed);
        }
    }

    /// Claims every dead endpoint whose probe is due and not already running.
    pub fn claim_due_probes(&self) -> Vec<ProbeClaim<'_>> {
        let now = self.now_ms();
        self.endpoints
            .iter()
            .enumerate()
            .filter(|(_, ep)| {
                ep.dead.load(Ordering::Acquire)
                    && ep.next_probe_ms.load(Ordering::Relaxed) <= now
                    && ep
                        .probing
                        .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                        .is_ok()
            })
            .map(|(index, ep)| ProbeClaim { ep, index })
            .collect()
    }

    /// The outcome of a probe: answered puts the endpoint back in (backoff reset);
    /// otherwise the backoff doubles (up to the cap) before the next probe.
    pub fn probe_done(&self, claim: ProbeClaim<'_>, answered: Result<(), String>) {
        let ep = claim.ep;
        match answered {
            Ok(()) => self.revive(ep),
            Err(msg) => {
                ep.errors.fetch_add(1, Ordering::Relaxed);
                *ep.last_error.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(format!("probe failed: {msg}"));
                let max = (self.backoff.max.as_millis() as u64).max(1);
                let next = (ep.backoff_ms.load(Ordering::Relaxed) * 2).min(max);
                ep.backoff_ms.store(next, Ordering::Relaxed);
                ep.next_probe_ms
                    .store(self.now_ms() + next, Ordering::Relaxed);
            }
        }
        drop(claim);
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
                    self.take_out(ep);
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
        self.take_out(ep);
    }

    pub fn revive(&self, ep: &Endpoint) {
        ep.connect_failures.store(0, Ordering::Relaxed);
        ep.backoff_ms.store(
            (self.backoff.initial.as_millis() as u64).max(1),
            Ordering::Relaxed,
        );
        ep.dead.store(false, Ordering::Release);
    }

    pub fn health(&self) -> Vec<EndpointHealth> {
        let now = self.now_ms();
        self.endpoints
            .iter()
            .map(|ep| EndpointHealth {
                url: ep.shown.clone(),
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
                next_probe_in_s: ep.dead.load(Ordering::Relaxed).then(|| {
                    ep.next_probe_ms.load(Ordering::Relaxed).saturating_sub(now) as f64 / 1000.0
                }),
            })
            .collect()
    }

    /// `url (last error; next probe in Ns)` for every endpoint, for `NoEndpoint` messages.
    pub fn dead_summary(&self) -> String {
        self.health()
            .iter()
            .map(|h| {
                let probe = h
                    .next_probe_in_s
                    .map(|s| format!("; probed again in {s:.1}s"))
                    .unwrap_or_default();
                format!(
                    "{} ({}{probe})",
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
        assert!(pool.dead_summary().contains("a (x; probed again in"));
    }

    #[test]
    fn dead_endpoint_probe_backoff_doubles_to_cap_and_resets() {
        let pool = Pool::with_backoff(
            vec!["http://u:pw@a?k=v".into()],
            1,
            Backoff {
                initial: Duration::from_millis(20),
                max: Duration::from_millis(50),
            },
        );
        let ep = &pool.endpoints[0];
        assert_eq!(ep.url("/v1/models"), "http://u:pw@a/v1/models?k=v");
        assert_eq!(pool.health()[0].url, "http://***@a?k=***");
        assert!(
            pool.claim_due_probes().is_empty(),
            "alive: nothing to probe"
        );
        pool.record(ep, Outcome::ConnectFailure("refused"));
        assert!(pool.acquire().is_none());
        assert!(
            pool.claim_due_probes().is_empty(),
            "not due before the backoff"
        );
        std::thread::sleep(Duration::from_millis(25));
        let claims = pool.claim_due_probes();
        assert_eq!(claims.len(), 1);
        assert!(pool.claim_due_probes().is_empty(), "one probe at a time");
        for claim in claims {
            pool.probe_done(claim, Err("refused".into()));
        }
        assert_eq!(ep.backoff_ms.load(Ordering::Relaxed), 40);
        std::thread::sleep(Duration::from_millis(45));
        for claim in pool.claim_due_probes() {
            pool.probe_done(claim, Err("refused".into()));
        }
        assert_eq!(ep.backoff_ms.load(Ordering::Relaxed), 50, "capped");
        std::thread::sleep(Duration::from_millis(55));
        let claims = pool.claim_due_probes();
        assert_eq!(claims.len(), 1);
        for claim in claims {
            pool.probe_done(claim, Ok(()));
        }
        assert!(pool.health()[0].alive && pool.acquire().is_some());
        assert_eq!(ep.backoff_ms.load(Ordering::Relaxed), 20, "reset");
    }
}
