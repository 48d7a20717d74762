//! Each injected fault maps to the right `BackendError` (or reply shape), one attempt.

mod common;

use std::time::Duration;

use anesbench_backend::fake::{Fault, FaultRule, Trigger};
use anesbench_backend::openai::ApiStyle;
use anesbench_backend::{Backend, BackendError};
use common::*;

#[tokio::test]
async fn normal_reply_names_the_predicted_letter() {
    let server = server_with(vec![]).await;
    let b = client(&[format!("{}/v1/", server.url())], ApiStyle::Chat);
    let r = b.generate(&chat_request(QUESTION)).await.unwrap();
    let want = server.config().answer_for(&seen_text(QUESTION));
    assert!(
        r.content
            .as_deref()
            .unwrap()
            .ends_with(&format!("Answer: {want}")),
        "{r:?}"
    );
    assert_eq!(r.finish_reason.as_deref(), Some("stop"));
    assert!(r.prompt_tokens.unwrap() > 5 && r.completion_tokens.unwrap() > 3);
    assert_eq!(r.endpoint.as_deref(), Some(server.url().as_str()));
    assert_eq!(server.stats().chat, 1);
}

#[tokio::test]
async fn http_500_is_retryable_http_error() {
    let server = server_always(Fault::Http500).await;
    let b = client(&[server.url()], ApiStyle::Chat);
    let e = b.generate(&chat_request(QUESTION)).await.unwrap_err();
    assert!(matches!(e, BackendError::Http { status: 500, .. }), "{e:?}");
    assert!(e.retryable() && e.retry_after().is_none());
    assert_eq!(
        server.stats().chat,
        1,
        "one attempt only: the runner retries"
    );
}

#[tokio::test]
async fn rate_limit_carries_retry_after() {
    let server = server_always(Fault::RateLimited {
        retry_after_secs: 7,
    })
    .await;
    let b = client(&[server.url()], ApiStyle::Chat);
    let e = b.generate(&chat_request(QUESTION)).await.unwrap_err();
    assert!(matches!(e, BackendError::Http { status: 429, .. }), "{e:?}");
    assert!(e.retryable());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn hang_becomes_timeout() {
    let server = server_always(Fault::Hang).await;
    let b = client(&[server.url()], ApiStyle::Chat);
    let t = std::time::Instant::now();
    let e = b.generate(&chat_request(QUESTION)).await.unwrap_err();
    assert!(matches!(e, BackendError::Timeout { .. }), "{e:?}");
    assert!(e.retryable());
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(
        b.endpoint_health()[0].alive,
        "a slow server is not a dead one"
    );
}

#[tokio::test]
async fn dropped_connection_becomes_connect_error() {
    let server = server_always(Fault::DropConnection).await;
    let b = client(&[server.url()], ApiStyle::Chat);
    for _ in 0..4 {
        let e = b.generate(&chat_request(QUESTION)).await.unwrap_err();
        assert!(matches!(e, BackendError::Connect { .. }), "{e:?}");
        assert!(e.retryable());
    }
    assert!(
        b.endpoint_health()[0].alive,
        "the server accepted the connections, so it stays in"
    );
}

#[tokio::test]
async fn truncated_json_becomes_bad_body() {
    let server = server_always(Fault::TruncatedJson).await;
    let b = client(&[server.url()], ApiStyle::Chat);
    let e = b.generate(&chat_request(QUESTION)).await.unwrap_err();
    let BackendError::BadBody { url, message } = &e else {
        panic!("{e:?}")
    };
    assert!(
        url.ends_with("/v1/chat/completions") && message.contains("body starts"),
        "{e}"
    );
    assert!(e.retryable());
}

#[tokio::test]
async fn null_content_keeps_reasoning() {
    let server = server_always(Fault::NullContent).await;
    let b = client(&[server.url()], ApiStyle::Chat);
    let r = b.generate(&chat_request(QUESTION)).await.unwrap();
    assert_eq!(r.content, None);
    let want = server.config().answer_for(&seen_text(QUESTION));
    assert!(r.reasoning.unwrap().ends_with(&format!("Answer: {want}")));
    assert!(r.reasoning_tokens.unwrap() > 0);
}

#[tokio::test]
async fn reasoning_content_is_kept_apart() {
    let server = server_always(Fault::Reasoning).await;
    let b = client(&[server.url()], ApiStyle::Chat);
    let r = b.generate(&chat_request(QUESTION)).await.unwrap();
    assert!(r.content.unwrap().starts_with("Answer: "));
    assert!(r.reasoning.unwrap().contains("analyse each option"));
}

#[tokio::test]
async fn length_finish_is_reported() {
    let server = server_always(Fault::Length).await;
    let b = client(&[server.url()], ApiStyle::Completions);
    let r = b.generate(&chat_request(QUESTION)).await.unwrap();
    assert_eq!(r.finish_reason.as_deref(), Some("length"));
    assert!(!r.content.unwrap().contains("Answer:"));
    assert_eq!(server.stats().completions, 1);
}

#[tokio::test]
async fn slow_reply_within_timeout_succeeds() {
    let server = server_always(Fault::Slow(Duration::from_millis(200))).await;
    let b = client(&[server.url()], ApiStyle::Chat);
    let t = std::time::Instant::now();
    b.generate(&chat_request(QUESTION)).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn first_attempt_fails_then_the_same_prompt_succeeds() {
    let server = server_with(vec![FaultRule::new(
        Trigger::FirstAttempts(1),
        Fault::Http500,
    )])
    .await;
    let b = client(&[server.url()], ApiStyle::Chat);
    assert!(b.generate(&chat_request(QUESTION)).await.is_err());
    assert!(b.generate(&chat_request(QUESTION)).await.is_ok());
    assert!(b
        .generate(&chat_request("another question\nA. x\nB. y"))
        .await
        .is_err());
    assert_eq!(server.stats().faults.get("http500"), Some(&2));
}

#[tokio::test]
async fn generation_params_and_extra_body_reach_the_server() {
    let server = anesbench_backend::fake::FakeServer::start(anesbench_backend::fake::FakeConfig {
        record_bodies: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let b = client(&[server.url()], ApiStyle::Chat);
    let mut req = chat_request(QUESTION);
    let mut extra = serde_json::Map::new();
    extra.insert(
        "chat_template_kwargs".into(),
        serde_json::json!({"enable_thinking": false}),
    );
    req.params.extra_body = Some(extra);
    req.params.seed = Some(11);
    req.params.stop = vec!["</s>".into()];
    b.generate(&req).await.unwrap();
    let body = &server.bodies()[0];
    assert_eq!(body["model"], "fake-model");
    assert_eq!(body["seed"], 11);
    assert_eq!(body["stop"][0], "</s>");
    assert_eq!(body["max_tokens"], 256);
    assert_eq!(body["chat_template_kwargs"]["enable_thinking"], false);
    assert_eq!(body["messages"][0]["role"], "system");
}

#[tokio::test]
async fn unreachable_endpoint_is_connect_error_then_no_endpoint() {
    // Bind and release a port so nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let b = client(&[format!("http://127.0.0.1:{port}")], ApiStyle::Chat);
    for _ in 0..3 {
        let e = b.generate(&chat_request(QUESTION)).await.unwrap_err();
        assert!(matches!(e, BackendError::Connect { .. }), "{e:?}");
    }
    assert!(!b.endpoint_health()[0].alive);
    let e = b.generate(&chat_request(QUESTION)).await.unwrap_err();
    // Retryable: the endpoint is probed again with backoff and may come back.
    assert!(
        matches!(e, BackendError::NoEndpoint(_)) && e.retryable(),
        "{e:?}"
    );
    assert!(e.to_string().contains(&port.to_string()));
}
