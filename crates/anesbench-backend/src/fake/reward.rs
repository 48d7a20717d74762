//! A fake reward-model server for tests: each API's request and reply shape
//! ([`crate::reward::RewardApi`]), scores from a function of the text, every request body
//! kept.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::reward::{RewardApi, QWEN_STEP_TOKEN};

/// Scores one step (for `/pooling`) or one answer (other APIs) from its text.
pub type ScoreFn = Arc<dyn Fn(&str) -> f64 + Send + Sync>;

struct Shared {
    api: RewardApi,
    model: String,
    score: ScoreFn,
    api_key: Option<String>,
    bodies: Mutex<Vec<Value>>,
}

/// Stops serving when dropped.
pub struct FakeRewardServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeRewardServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeRewardServer {
    /// Serves `api` on `127.0.0.1:0`; requests without `Bearer <api_key>` (when given)
    /// get 401 with the presented header echoed in the body.
    pub async fn start(
        api: RewardApi,
        score: ScoreFn,
        api_key: Option<String>,
    ) -> std::io::Result<FakeRewardServer> {
        let shared = Arc::new(Shared {
            api,
            model: "fake-prm".into(),
            score,
            api_key,
            bodies: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/v1/models", get(models))
            .route(api.path(), post(handle))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeRewardServer { addr, shared, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every scoring request body received, in order.
    pub fn bodies(&self) -> Vec<Value> {
        self.shared
            .bodies
            .lock()
            .map(|b| b.clone())
            .unwrap_or_default()
    }
}

async fn models(State(s): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({"object": "list", "data": [{"id": s.model, "object": "model"}]}))
}

fn tokens(t: &str) -> u64 {
    t.split_whitespace().count() as u64
}

async fn handle(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(key) = &s.api_key {
        let got = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if got != format!("Bearer {key}") {
            return (StatusCode::UNAUTHORIZED, format!("bad key: {got}")).into_response();
        }
    }
    if let Ok(mut b) = s.bodies.lock() {
        b.push(body.clone());
    }
    let strs = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::String(t)) => vec![t.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        }
    };
    let bad = |m: &str| (StatusCode::BAD_REQUEST, m.to_string()).into_response();
    match s.api {
        RewardApi::VllmPooling => {
            if body.get("task").and_then(Value::as_str) != Some("token_classify") {
                return bad("task must be token_classify");
            }
            let texts = strs(body.get("input"));
            let mut n_tok = 0;
            let data: Vec<Value> = texts
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    n_tok += tokens(t);
                    let answer = t.rsplit("<|im_start|>assistant\n").next().unwrap_or(t);
                    let parts: Vec<&str> = answer.split(QWEN_STEP_TOKEN).collect();
                    let pairs: Vec<Value> = parts[..parts.len() - 1]
                        .iter()
                        .map(|st| {
                            let x = (s.score)(st);
                            json!([1.0 - x, x])
                        })
                        .collect();
                    json!({"index": i, "object": "pooling", "data": pairs})
                })
                .collect();
            Json(json!({"object": "list", "model": s.model, "data": data, "usage": {"prompt_tokens": n_tok, "total_tokens": n_tok}})).into_response()
        }
        RewardApi::VllmClassify => {
            let texts = strs(body.get("input"));
            let n_tok: u64 = texts.iter().map(|t| tokens(t)).sum();
            let data: Vec<Value> = texts
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let x = (s.score)(t);
                    json!({"index": i, "label": "LABEL_1", "probs": [1.0 - x, x], "num_classes": 2})
                })
                .collect();
            Json(json!({"object": "list", "data": data, "usage": {"prompt_tokens": n_tok}}))
                .into_response()
        }
        RewardApi::VllmScore => {
            let q = body.get("text_1").and_then(Value::as_str).unwrap_or("");
            let texts = strs(body.get("text_2"));
            let n_tok: u64 = texts.iter().map(|t| tokens(q) + tokens(t)).sum();
            let data: Vec<Value> = texts
                .iter()
                .enumerate()
                .map(|(i, t)| json!({"index": i, "object": "score", "score": (s.score)(t)}))
                .collect();
            Json(json!({"object": "list", "data": data, "usage": {"prompt_tokens": n_tok}}))
                .into_response()
        }
        RewardApi::SglangClassify => {
            if body.get("input").is_some() {
                return bad("SGLang's reward route takes `text`");
            }
            let texts = strs(body.get("text"));
            let out: Vec<Value> = texts
                .iter()
                .map(|t| json!({"embedding": [(s.score)(t)], "meta_info": {"prompt_tokens": tokens(t)}}))
                .collect();
            Json(Value::Array(out)).into_response()
        }
    }
}
