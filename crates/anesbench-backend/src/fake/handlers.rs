//! Route handlers: count, check the key, pick a fault, reply.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{json, Value};

use super::fault::{choose, Fault};
use super::reply::{self, Out, Said};
use super::{ConnKill, Shared};
use crate::synth::{option_letters, stable_hash};

#[derive(Clone, Copy, PartialEq)]
enum Route {
    Chat,
    Completions,
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat))
        .route("/v1/completions", post(completions))
        .with_state(shared)
}

/// Records the header and checks it against the configured key, if any.
fn authorized(s: &Shared, headers: &HeaderMap) -> bool {
    let got = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    *s.last_auth.lock().unwrap_or_else(|p| p.into_inner()) = got.clone();
    let Some(key) = &s.cfg.api_key else {
        return true;
    };
    let ok = got.as_deref() == Some(format!("Bearer {key}").as_str());
    if ok {
        s.authorized.fetch_add(1, Ordering::Relaxed);
    }
    ok
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": {"message": "invalid API key", "type": "auth"}})),
    )
        .into_response()
}

async fn models(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    s.total.fetch_add(1, Ordering::Relaxed);
    s.models.fetch_add(1, Ordering::Relaxed);
    if !authorized(&s, &headers) {
        return unauthorized();
    }
    Json(json!({"object": "list", "data": [{"id": s.cfg.model, "object": "model", "owned_by": "anesbench-fake"}]}))
        .into_response()
}

async fn chat(
    State(s): State<Arc<Shared>>,
    Extension(kill): Extension<ConnKill>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    generation(s, kill, headers, body, Route::Chat).await
}

async fn completions(
    State(s): State<Arc<Shared>>,
    Extension(kill): Extension<ConnKill>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    generation(s, kill, headers, body, Route::Completions).await
}

fn bad_request(msg: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {"message": msg, "type": "invalid_request_error"}})),
    )
        .into_response()
}

fn prompt_of(req: &Value, route: Route) -> Result<String, String> {
    match route {
        Route::Chat => {
            let msgs = req
                .get("messages")
                .and_then(Value::as_array)
                .ok_or("`messages` must be a list")?;
            let parts: Vec<&str> = msgs
                .iter()
                .filter_map(|m| m.get("content").and_then(Value::as_str))
                .collect();
            Ok(parts.join("\n\n"))
        }
        Route::Completions => req
            .get("prompt")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| "`prompt` must be a string".into()),
    }
}

async fn generation(
    s: Arc<Shared>,
    kill: ConnKill,
    headers: HeaderMap,
    body: Bytes,
    route: Route,
) -> Response {
    s.total.fetch_add(1, Ordering::Relaxed);
    match route {
        Route::Chat => s.chat.fetch_add(1, Ordering::Relaxed),
        Route::Completions => s.completions.fetch_add(1, Ordering::Relaxed),
    };
    let index = s.gen_index.fetch_add(1, Ordering::Relaxed);
    if !authorized(&s, &headers) {
        return unauthorized();
    }
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(format!("request body is not JSON: {e}")),
    };
    let prompt = match prompt_of(&req, route) {
        Ok(p) => p,
        Err(e) => return bad_request(e),
    };
    let phash = stable_hash(0, prompt.as_bytes());
    let attempt = {
        let mut a = s.attempts.lock().unwrap_or_else(|p| p.into_inner());
        let n = a.entry(phash).or_insert(0);
        *n += 1;
        *n - 1
    };
    if s.cfg.record_bodies {
        s.bodies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(req.clone());
    }
    let letter = s.cfg.answer_for(&prompt);
    let fault = choose(&s.cfg.faults, s.cfg.seed, phash, index, attempt).cloned();
    if let Some(f) = &fault {
        *s.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(f.name())
            .or_insert(0) += 1;
    }
    let said = match fault {
        None | Some(Fault::Slow(_)) | Some(Fault::TruncatedJson) => Said::normal(letter),
        Some(Fault::Http500) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": {"message": "injected internal error"}})),
            )
                .into_response()
        }
        Some(Fault::RateLimited { retry_after_secs }) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, retry_after_secs.to_string())],
                Json(json!({"error": {"message": "injected rate limit"}})),
            )
                .into_response()
        }
        Some(Fault::Hang) => {
            tokio::time::sleep(s.cfg.hang).await;
            Said::normal(letter)
        }
        Some(Fault::DropConnection) => {
            kill.0.notify_one();
            return std::future::pending().await;
        }
        Some(Fault::NullContent) => Said::null_content(letter),
        Some(Fault::Reasoning) => Said::reasoning(letter),
        Some(Fault::Length) => Said::length(),
    };
    if let Some(Fault::Slow(d)) = fault {
        tokio::time::sleep(d).await;
    }
    let model = req
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or(&s.cfg.model);
    let asked = req.get("n").and_then(Value::as_u64).unwrap_or(1).max(1);
    let n = if s.cfg.n_choices { asked } else { 1 };
    let seed = req.get("seed").and_then(Value::as_u64);
    let wants_logprobs = match route {
        Route::Chat => req.get("logprobs").and_then(Value::as_bool) == Some(true),
        Route::Completions => req.get("logprobs").and_then(Value::as_u64).is_some(),
    } && s.cfg.logprobs;
    let choices: Vec<Out> = match (&s.cfg.script, seed) {
        // A fault that shapes the reply (null content, length, ...) wins over the script.
        (Some(script), Some(seed))
            if matches!(
                fault,
                None | Some(Fault::Slow(_)) | Some(Fault::TruncatedJson)
            ) =>
        {
            let mut out = Vec::new();
            for i in 0..n {
                let Some(sc) = script.get(seed + i) else {
                    return bad_request(format!(
                        "fake server: no scripted reply for seed {}",
                        seed + i
                    ));
                };
                out.push(Out {
                    said: Said::scripted(&sc.text),
                    logprobs: wants_logprobs.then(|| {
                        reply::token_logprobs(&sc.text, sc.mean_logprob, route == Route::Chat)
                    }),
                });
            }
            out
        }
        _ => (0..n)
            .map(|_| {
                let said = said.clone();
                let logprobs = match route {
                    Route::Chat => None,
                    Route::Completions => req
                        .get("logprobs")
                        .and_then(Value::as_u64)
                        .filter(|_| s.cfg.logprobs)
                        .map(|k| reply::top_logprobs(letter, &option_letters(&prompt), k as usize)),
                };
                Out { said, logprobs }
            })
            .collect(),
    };
    s.choices.fetch_add(choices.len() as u64, Ordering::Relaxed);
    let out = match route {
        Route::Chat => reply::chat(model, &prompt, &choices),
        Route::Completions => reply::completion(model, &prompt, &choices),
    };
    let mut bytes = serde_json::to_vec(&out).unwrap_or_default();
    if fault == Some(Fault::TruncatedJson) {
        bytes.truncate(bytes.len() / 2);
    }
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}
