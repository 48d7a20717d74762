//! Settings added with the reliability fixes: body cap, probe backoff, max_tokens default.

mod common;

use std::time::Duration;

use anesbench_backend::fake::{FakeConfig, FakeServer};
use anesbench_backend::openai::{ApiStyle, OpenAiBackend, OpenAiConfig, DEFAULT_MAX_TOKENS};
use anesbench_backend::{Backend, BackendError, GenParams, GenRequest, Prompt};
use common::*;

#[tokio::test]
async fn secrets_and_limits_configured_body_cap() {
    let server = FakeServer::start(FakeConfig::default()).await.unwrap();
    let tiny = OpenAiBackend::new(OpenAiConfig {
        model: Some("fake-model".into()),
        max_body_bytes: 64,
        ..OpenAiConfig::new(server.url())
    })
    .unwrap();
    let e = tiny.generate(&chat_request(QUESTION)).await.unwrap_err();
    assert!(
        matches!(&e, BackendError::BadBody { message, .. } if message.contains("64 byte limit")),
        "{e:?}"
    );
    assert!(e.retryable());
    // The default cap lets normal replies through.
    client(&[server.url()], ApiStyle::Chat)
        .generate(&chat_request(QUESTION))
        .await
        .unwrap();
}

#[tokio::test]
async fn max_tokens_default_is_documented_constant_and_explicit_wins() {
    let server = FakeServer::start(FakeConfig {
        record_bodies: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let b = client(&[server.url()], ApiStyle::Completions);
    let mut req = GenRequest {
        prompt: Prompt::Text("Q".into()),
        params: GenParams::default(),
    };
    b.generate(&req).await.unwrap();
    req.params.max_tokens = Some(7);
    b.generate(&req).await.unwrap();
    let mut extra = serde_json::Map::new();
    extra.insert("max_completion_tokens".into(), 99.into());
    req.params = GenParams {
        extra_body: Some(extra),
        ..GenParams::default()
    };
    b.generate(&req).await.unwrap();
    let bodies = server.bodies();
    assert_eq!(bodies[0]["max_tokens"], DEFAULT_MAX_TOKENS);
    assert_eq!(bodies[1]["max_tokens"], 7);
    assert!(bodies[2].get("max_tokens").is_none(), "{}", bodies[2]);
    assert_eq!(
        b.describe().details["default_max_tokens"],
        serde_json::json!(DEFAULT_MAX_TOKENS)
    );
}

#[tokio::test]
async fn endpoint_restarts_probe_backoff_is_configurable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let b = OpenAiBackend::new(OpenAiConfig {
        model: Some("m".into()),
        dead_after: 1,
        probe_backoff: Duration::from_secs(60),
        probe_backoff_max: Duration::from_secs(60),
        connect_timeout: Duration::from_millis(500),
        ..OpenAiConfig::new(format!("http://127.0.0.1:{port}"))
    })
    .unwrap();
    let e = b.generate(&chat_request(QUESTION)).await.unwrap_err();
    assert!(matches!(e, BackendError::Connect { .. }), "{e:?}");
    let e = b.generate(&chat_request(QUESTION)).await.unwrap_err();
    assert!(
        matches!(e, BackendError::NoEndpoint(_)) && e.retryable(),
        "{e:?}"
    );
    let h = &b.endpoint_health()[0];
    assert!(
        !h.alive && h.next_probe_in_s.is_some_and(|s| s > 50.0),
        "{h:?}"
    );
    assert!(e.to_string().contains("probed again in"), "{e}");
}

#[test]
fn secrets_and_limits_redact_url_is_public() {
    let url = "http://user:hunter2@127.0.0.1:8000/v1?api_key=sekrit";
    assert_eq!(
        anesbench_backend::redact_url(url),
        "http://***@127.0.0.1:8000/v1?api_key=***"
    );
}
