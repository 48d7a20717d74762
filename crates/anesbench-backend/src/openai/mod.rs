//! OpenAI-compatible HTTP backend (SGLang, vLLM, llama.cpp's server, hosted APIs).
//!
//! Public contract used by the runner and the CLI:
//! - [`OpenAiBackend::new`]`(`[`OpenAiConfig`]`)` builds the client (no network yet).
//! - [`OpenAiBackend::ready`] checks `GET {base}/v1/models` on every endpoint before a
//!   run; endpoints that fail are taken out and show in [`OpenAiBackend::endpoint_health`];
//!   it fails with [`BackendError::NoEndpoint`] only when none answers.
//! - [`OpenAiBackend::discover_model`] returns the first model id served; when the
//!   config named no model, the backend adopts it for later requests.
//! - [`Backend::generate`] makes exactly ONE attempt and returns a typed
//!   [`BackendError`]; retries (and honouring `retry_after()`) belong to the runner.
//! - [`Backend::loglik`] asks `/v1/completions` for the top [`loglik::TOP_K`]
//!   log-probabilities of one token; see [`loglik`] for how letters are matched.
//!
//! With several endpoints each request goes to the live endpoint with the fewest
//! requests in flight; [`OpenAiConfig::dead_after`] consecutive connect-phase failures
//! take an endpoint out (a server that accepts connections and then errors stays in).
//! An endpoint taken out is probed with `GET /v1/models` after
//! [`OpenAiConfig::probe_backoff`] (doubling after each failed probe, up to
//! [`OpenAiConfig::probe_backoff_max`]) and put back in when it answers; probes run in
//! the background while other endpoints serve, and inline (before failing with the
//! retryable [`BackendError::NoEndpoint`]) when none is left.
//!
//! Several samples of one prompt ([`Backend::generate_n`]) go out as one request with
//! `"n": N`, so the server prefills the prompt once (vLLM, SGLang), as
//! [`OpenAiConfig::n_per_request`] allows ([`NPerRequest`]). Each endpoint remembers
//! whether its server keeps `n`: [`OpenAiBackend::probe_n`] asks once before a run, and
//! any reply with fewer choices than asked marks the endpoint as ignoring it (llama.cpp's
//! server returns one choice); such an endpoint gets one sample per request from then on,
//! and when every endpoint ignores `n`, [`Backend::max_choices`] says 1 so the runner
//! schedules every sample as its own request. The request's `seed` seeds the whole batch
//! (the server's sampler draws the N choices from it), so the choices are not those of N
//! single requests with seeds `seed + i`: the path used is in the manifest
//! (`backend.details.n_per_request`) and on every record (`batch`).
//!
//! Secrets: the API key is sent as `Authorization: Bearer`; `user:password@` in an
//! endpoint URL is sent as basic auth (and then replaces the bearer header for that
//! endpoint) and a query string is appended to every request. None of them appears in
//! `Debug`, error, [`OpenAiBackend::endpoint_health`], `describe()` or
//! `GenResponse::endpoint` output: URLs are shown through [`crate::redact_url`], and
//! HTTP error bodies are cut to [`crate::redact::MAX_ERROR_BODY`] bytes with keys and
//! bearer tokens masked. Reply bodies are read up to [`OpenAiConfig::max_body_bytes`].

mod config;
pub mod loglik;
mod pool;
mod raw;
mod transport;
mod wire;

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};

pub use crate::redact::redact_url;
pub use config::{normalize_base, ApiStyle, NPerRequest, OpenAiConfig, DEFAULT_MAX_BODY_BYTES};
pub use pool::EndpointHealth;
pub use transport::parse_retry_after;
pub use wire::DEFAULT_MAX_TOKENS;

use crate::redact::url_secrets;
use crate::types::{
    BackendError, BackendInfo, GenRequest, GenResponse, LoglikRequest, LoglikResponse,
};
use crate::Backend;
use pool::{Backoff, Endpoint, Lease, Outcome, Pool, ProbeClaim, N_IGNORED, N_KEPT};
use transport::{exchange, Failure, Limits};

/// See the module docs. Cheap to share behind an `Arc`; all state is atomic.
pub struct OpenAiBackend {
    client: reqwest::Client,
    pool: Arc<Pool>,
    style: ApiStyle,
    configured_model: Option<String>,
    discovered_model: OnceLock<String>,
    request_timeout: Duration,
    limits: Arc<Limits>,
    probe_timeout: Duration,
    n_per_request: NPerRequest,
}

/// Most choices one request asks for: OpenAI's own cap on `n`; more samples of an item
/// take several requests.
pub const MAX_N: u32 = 128;

/// What [`OpenAiBackend::probe_n`] found for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NProbe {
    /// Redacted base URL.
    pub url: String,
    /// `Some(true)`: the server returned two choices for `n: 2`; `Some(false)`: one (or it
    /// refused `n` with a 4xx); `None`: the probe failed otherwise (learnt from the first
    /// reply instead).
    pub keeps_n: Option<bool>,
    /// Why the probe could not tell, when it could not.
    pub error: Option<String>,
}

impl fmt::Debug for OpenAiBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiBackend")
            .field(
                "endpoints",
                &self
                    .pool
                    .endpoints
                    .iter()
                    .map(|e| e.shown.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("model", &self.model())
            .field("style", &self.style)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl OpenAiBackend {
    pub fn new(cfg: OpenAiConfig) -> Result<Self, BackendError> {
        if cfg.endpoints.is_empty() {
            return Err(BackendError::Other(
                "no endpoint given (hint: pass --endpoint http://HOST:PORT)".into(),
            ));
        }
        let bases = cfg
            .endpoints
            .iter()
            .map(|e| normalize_base(e))
            .collect::<Result<Vec<_>, _>>()
            .map_err(BackendError::Other)?;
        let mut secrets: Vec<String> = bases.iter().flat_map(|b| url_secrets(b)).collect();
        if let Some(key) = cfg.api_key.as_deref().filter(|k| !k.is_empty()) {
            secrets.push(key.to_string());
        }
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(key) = cfg.api_key.as_deref().filter(|k| !k.is_empty()) {
            let mut v = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                BackendError::Other(
                    "the API key holds characters not allowed in an HTTP header".into(),
                )
            })?;
            v.set_sensitive(true);
            headers.insert(AUTHORIZATION, v);
        }
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(cfg.request_timeout)
            .connect_timeout(cfg.connect_timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .map_err(|e| BackendError::Other(format!("cannot build the HTTP client: {e}")))?;
        let backoff = Backoff {
            initial: cfg.probe_backoff,
            max: cfg.probe_backoff_max.max(cfg.probe_backoff),
        };
        Ok(OpenAiBackend {
            client,
            pool: Arc::new(Pool::with_backoff(bases, cfg.dead_after, backoff)),
            style: cfg.style,
            configured_model: cfg.model.filter(|m| !m.trim().is_empty()),
            discovered_model: OnceLock::new(),
            request_timeout: cfg.request_timeout,
            limits: Arc::new(Limits {
                timeout: cfg.request_timeout,
                max_body: cfg.max_body_bytes.max(1),
                secrets,
            }),
            probe_timeout: cfg
                .request_timeout
                .min(cfg.connect_timeout + Duration::from_secs(5)),
            n_per_request: cfg.n_per_request,
        })
    }

    /// The model name requests carry: configured, else discovered.
    pub fn model(&self) -> Option<&str> {
        self.configured_model
            .as_deref()
            .or_else(|| self.discovered_model.get().map(String::as_str))
    }

    pub fn style(&self) -> ApiStyle {
        self.style
    }

    /// Per-endpoint state: alive, in flight, successes, errors, last error.
    pub fn endpoint_health(&self) -> Vec<EndpointHealth> {
        self.pool.health()
    }

    async fn list_models(&self, ep: &Endpoint) -> Result<Vec<String>, BackendError> {
        let shown = ep.shown_url("/v1/models");
        let body = exchange(self.client.get(ep.url("/v1/models")), &shown, &self.limits)
            .await
            .map_err(|f| f.error.redacted(&self.limits.secrets))?;
        wire::parse_models(&body).map_err(|message| {
            BackendError::BadBody {
                url: shown,
                message,
            }
            .redacted(&self.limits.secrets)
        })
    }

    /// Probes every taken-out endpoint whose backoff has passed: in the background when
    /// another endpoint is alive, else inline, so the caller sees a revived endpoint.
    async fn probe_due(&self) {
        let claims = self.pool.claim_due_probes();
        if claims.is_empty() {
            return;
        }
        let background = self.pool.any_alive() && tokio::runtime::Handle::try_current().is_ok();
        if !background {
            let probes = claims.into_iter().map(|claim| async move {
                let res = probe(&self.client, claim.ep, &self.limits, self.probe_timeout).await;
                self.pool.probe_done(claim, res);
            });
            join_all(probes).await;
            return;
        }
        let indices: Vec<usize> = claims.iter().map(|c| c.index).collect();
        // The spawned task takes the claims over; forget these without releasing them.
        claims.into_iter().for_each(std::mem::forget);
        for index in indices {
            let (client, pool, limits) =
                (self.client.clone(), self.pool.clone(), self.limits.clone());
            let timeout = self.probe_timeout;
            tokio::spawn(async move {
                let claim = ProbeClaim {
                    ep: &pool.endpoints[index],
                    index,
                };
                let res = probe(&client, claim.ep, &limits, timeout).await;
                pool.probe_done(claim, res);
            });
        }
    }

    /// `GET /v1/models` on every endpoint, concurrently. Failing endpoints are taken out
    /// (see [`Self::endpoint_health`]); answering ones are put back in.
    pub async fn ready(&self) -> Result<(), BackendError> {
        let checks = self
            .pool
            .endpoints
            .iter()
            .map(|ep| async move { (ep, self.list_models(ep).await) });
        let results = join_all(checks).await;
        let mut alive = 0;
        for (ep, res) in results {
            match res {
                Ok(models) => {
                    *ep.models.lock().unwrap_or_else(|p| p.into_inner()) = models;
                    self.pool.revive(ep);
                    alive += 1;
                }
                Err(e) => self
                    .pool
                    .mark_dead(ep, &format!("readiness check failed: {e}")),
            }
        }
        if alive == 0 {
            return Err(BackendError::NoEndpoint(format!(
                "no endpoint answered GET /v1/models: {} (hint: is the server up and the URL right?)",
                self.pool.dead_summary()
            )));
        }
        Ok(())
    }

    /// First model id listed by the first endpoint that answers `/v1/models`. Adopted for
    /// later requests when the config named no model.
    pub async fn discover_model(&self) -> Result<String, BackendError> {
        let mut errors = Vec::new();
        for ep in &self.pool.endpoints {
            match self.list_models(ep).await {
                Ok(models) => match models.into_iter().next() {
                    Some(m) => {
                        let _ = self.discovered_model.set(m.clone());
                        return Ok(m);
                    }
                    None => errors.push(format!("{}: /v1/models listed no model", ep.shown)),
                },
                Err(e) => errors.push(e.to_string()),
            }
        }
        Err(BackendError::NoEndpoint(format!(
            "cannot discover the model name (hint: pass --model): {}",
            errors.join("; ")
        )))
    }

    fn require_model(&self) -> Result<&str, BackendError> {
        self.model().ok_or_else(|| {
            BackendError::Other(
                "no model name: pass --model or call discover_model() before the run".into(),
            )
        })
    }

    /// One POST to the least-loaded live endpoint; returns the body, the endpoint and
    /// the redacted URL. Taken-out endpoints due for a probe are probed first.
    async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<(bytes::Bytes, &Endpoint, String), BackendError> {
        let lease = self.lease().await?;
        let ep = lease.ep;
        let (bytes, shown) = self.send(ep, path, body).await?;
        Ok((bytes, ep, shown))
    }

    /// The least-loaded live endpoint, counted as one more in flight until the lease is
    /// dropped. Taken-out endpoints due for a probe are probed first.
    async fn lease(&self) -> Result<Lease<'_>, BackendError> {
        self.probe_due().await;
        self.pool.acquire().ok_or_else(|| {
            BackendError::NoEndpoint(format!(
                "{} (hint: endpoints are probed again with backoff; check the server)",
                self.pool.dead_summary()
            ))
        })
    }

    /// One POST to `ep`; failures are scrubbed and recorded against it.
    async fn send(
        &self,
        ep: &Endpoint,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<(bytes::Bytes, String), BackendError> {
        let shown = ep.shown_url(path);
        let payload = serde_json::to_vec(body)
            .map_err(|e| BackendError::Other(format!("cannot encode the request: {e}")))?;
        match exchange(
            self.client.post(ep.url(path)).body(payload),
            &shown,
            &self.limits,
        )
        .await
        {
            Ok(bytes) => Ok((bytes, shown)),
            Err(Failure {
                error,
                connect_phase,
            }) => {
                let error = error.redacted(&self.limits.secrets);
                let msg = error.to_string();
                self.pool.record(
                    ep,
                    if connect_phase {
                        Outcome::ConnectFailure(&msg)
                    } else {
                        Outcome::OtherFailure(&msg)
                    },
                );
                Err(error)
            }
        }
    }

    /// Route and body of a generation request in this backend's API style.
    fn generation_body(&self, model: &str, req: &GenRequest) -> (&'static str, serde_json::Value) {
        match self.style {
            ApiStyle::Chat => (
                "/v1/chat/completions",
                wire::chat_body(model, &req.prompt, &req.params),
            ),
            ApiStyle::Completions => (
                "/v1/completions",
                wire::completions_body(model, &req.prompt, &req.params),
            ),
        }
    }

    /// The `--n-per-request` setting.
    pub fn n_per_request(&self) -> NPerRequest {
        self.n_per_request
    }

    /// Asks every endpoint once whether its server keeps `n`: a request for two choices
    /// of one token each (no seed). Two choices back: it does; one, or a 4xx refusing
    /// the field: it does not, and gets one sample per request from then on. Any other
    /// failure leaves it undecided, to be learnt from its first batched reply. Does
    /// nothing unless the setting is [`NPerRequest::Auto`]. Call it after
    /// [`Self::ready`] (and [`Self::discover_model`]), before a run with several samples
    /// per item.
    pub async fn probe_n(&self) -> Vec<NProbe> {
        if self.n_per_request != NPerRequest::Auto {
            return Vec::new();
        }
        let Ok(model) = self.require_model() else {
            return Vec::new();
        };
        let req = GenRequest {
            prompt: crate::types::Prompt::Text("Reply with OK.".into()),
            params: crate::types::GenParams {
                temperature: Some(1.0),
                max_tokens: Some(1),
                ..Default::default()
            },
        };
        let (path, mut body) = self.generation_body(model, &req);
        body["n"] = 2.into();
        let payload = serde_json::to_vec(&body).unwrap_or_default();
        let probes = self.pool.endpoints.iter().map(|ep| {
            let payload = payload.clone();
            async move {
                let shown = ep.shown_url(path);
                let sent = exchange(
                    self.client
                        .post(ep.url(path))
                        .body(payload)
                        .timeout(self.probe_timeout),
                    &shown,
                    &self.limits,
                )
                .await;
                let (keeps_n, error) = match sent {
                    Ok(bytes) => match wire::parse_generations(&bytes) {
                        Ok(choices) => (Some(choices.len() >= 2), None),
                        Err(m) => (None, Some(m)),
                    },
                    Err(Failure {
                        error: BackendError::Http { status, .. },
                        ..
                    }) if (400..500).contains(&status) && status != 429 => (Some(false), None),
                    Err(f) => (None, Some(f.error.to_string())),
                };
                if let Some(k) = keeps_n {
                    ep.n_choices
                        .store(if k { N_KEPT } else { N_IGNORED }, Ordering::Relaxed);
                }
                NProbe {
                    url: ep.shown.clone(),
                    keeps_n,
                    error: error.map(|e| crate::redact::redact_text(&e, &self.limits.secrets)),
                }
            }
        });
        join_all(probes).await
    }

    /// A `BadBody` for `url`, scrubbed, recorded against `ep`.
    fn bad_body(&self, ep: &Endpoint, url: String, message: String) -> BackendError {
        let e = BackendError::BadBody { url, message }.redacted(&self.limits.secrets);
        self.pool.record(ep, Outcome::OtherFailure(&e.to_string()));
        e
    }
}

/// `GET /v1/models` on a taken-out endpoint. A 2xx or 4xx reply means its server is up
/// and routing again; connection failures, timeouts and 5xx mean not yet.
async fn probe(
    client: &reqwest::Client,
    ep: &Endpoint,
    limits: &Limits,
    timeout: Duration,
) -> Result<(), String> {
    let shown = ep.shown_url("/v1/models");
    match exchange(
        client.get(ep.url("/v1/models")).timeout(timeout),
        &shown,
        limits,
    )
    .await
    {
        Ok(_) => Ok(()),
        Err(Failure {
            error: BackendError::Http { status, .. },
            ..
        }) if status < 500 => Ok(()),
        Err(f) => Err(f.error.redacted(&limits.secrets).to_string()),
    }
}

#[async_trait]
impl Backend for OpenAiBackend {
    async fn generate(&self, req: &GenRequest) -> Result<GenResponse, BackendError> {
        let model = self.require_model()?;
        let (path, body) = self.generation_body(model, req);
        let (bytes, ep, url) = self.post(path, &body).await?;
        match wire::parse_generation(&bytes) {
            Ok(mut r) => {
                self.pool.record(ep, Outcome::Ok);
                r.endpoint = Some(ep.shown.clone());
                Ok(r)
            }
            Err(message) => Err(self.bad_body(ep, url, message)),
        }
    }

    /// 128 ([`MAX_N`]) while some endpoint may keep `n` and the setting allows it; 1 when
    /// `--n-per-request off` or every endpoint was found to ignore `n`.
    fn max_choices(&self) -> u32 {
        let some_keep = self
            .pool
            .endpoints
            .iter()
            .any(|e| e.n_choices.load(Ordering::Relaxed) != N_IGNORED);
        if self.n_per_request == NPerRequest::Off || !some_keep {
            1
        } else {
            MAX_N
        }
    }

    /// One request with `"n": n` (at most [`MAX_N`]) to an endpoint that keeps `n`, or
    /// may; one choice from an endpoint known to ignore it. A reply with fewer choices
    /// than asked marks the endpoint as ignoring `n` and returns what came, so the caller
    /// asks for the rest one at a time.
    async fn generate_n(&self, req: &GenRequest, n: u32) -> Result<Vec<GenResponse>, BackendError> {
        if n <= 1 || self.n_per_request == NPerRequest::Off {
            return self.generate(req).await.map(|r| vec![r]);
        }
        let model = self.require_model()?;
        let lease = self.lease().await?;
        let ep = lease.ep;
        let asked = if ep.n_choices.load(Ordering::Relaxed) == N_IGNORED {
            1
        } else {
            n.min(MAX_N)
        };
        let (path, mut body) = self.generation_body(model, req);
        if asked > 1 {
            body["n"] = asked.into();
        }
        let (bytes, url) = self.send(ep, path, &body).await?;
        match wire::parse_generations(&bytes) {
            Ok(mut choices) => {
                self.pool.record(ep, Outcome::Ok);
                if asked > 1 {
                    let kept = choices.len() as u32 >= asked;
                    ep.n_choices
                        .store(if kept { N_KEPT } else { N_IGNORED }, Ordering::Relaxed);
                }
                choices.truncate(asked as usize);
                for c in &mut choices {
                    c.endpoint = Some(ep.shown.clone());
                }
                Ok(choices)
            }
            Err(message) => Err(self.bad_body(ep, url, message)),
        }
    }

    async fn loglik(&self, req: &LoglikRequest) -> Result<LoglikResponse, BackendError> {
        let model = self.require_model()?;
        let body = wire::loglik_body(model, &req.prompt, loglik::TOP_K);
        let (bytes, ep, url) = self.post("/v1/completions", &body).await?;
        let wire::FirstToken { top, prompt_tokens } = match wire::parse_top_logprobs(&bytes) {
            Ok(x) => x,
            Err(message) => return Err(self.bad_body(ep, url, message)),
        };
        self.pool.record(ep, Outcome::Ok);
        let Some(top) = top else {
            return Err(BackendError::Unsupported(format!(
                "{url} returned no logprobs: the server does not support `logprobs` on /v1/completions \
                 (hint: use a generation-based prompt, or a server such as vLLM or llama.cpp that returns them)"
            )));
        };
        let logprobs =
            loglik::map_candidates(&top, &req.candidates).ok_or_else(|| BackendError::BadBody {
                url: url.clone(),
                message: "`top_logprobs` for the first token is empty".into(),
            })?;
        Ok(LoglikResponse {
            logprobs,
            prompt_tokens,
            endpoint: Some(ep.shown.clone()),
        })
    }

    fn describe(&self) -> BackendInfo {
        let mut details = serde_json::Map::new();
        details.insert(
            "request_timeout_s".into(),
            self.request_timeout.as_secs_f64().into(),
        );
        details.insert("default_max_tokens".into(), DEFAULT_MAX_TOKENS.into());
        // Which path several samples of one prompt take, per endpoint: `n` kept (one
        // request per item), ignored (one request per sample), or not yet known.
        let per_endpoint: serde_json::Map<String, serde_json::Value> = self
            .pool
            .endpoints
            .iter()
            .map(|e| {
                let state = match e.n_choices.load(Ordering::Relaxed) {
                    _ if self.n_per_request == NPerRequest::Off => "off",
                    N_KEPT => "kept",
                    N_IGNORED => "ignored",
                    _ => "unknown",
                };
                (e.shown.clone(), state.into())
            })
            .collect();
        details.insert(
            "n_per_request".into(),
            serde_json::json!({
                "setting": self.n_per_request.name(),
                "endpoints": per_endpoint,
            }),
        );
        BackendInfo {
            kind: self.style.kind().into(),
            model: self.model().unwrap_or_default().into(),
            endpoints: self
                .pool
                .endpoints
                .iter()
                .map(|e| e.shown.clone())
                .collect(),
            details,
        }
    }
}

/// Polls all futures concurrently on the current task (no extra dependency).
async fn join_all<F: std::future::Future>(futs: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}
