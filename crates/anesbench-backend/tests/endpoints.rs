//! Several endpoints: least-outstanding spreading, dead endpoints taken out, readiness,
//! model discovery, and the API key.

mod common;

use std::sync::Arc;
use std::time::Duration;

use anesbench_backend::fake::{FakeConfig, FakeServer, Fault};
use anesbench_backend::openai::{ApiStyle, OpenAiBackend, OpenAiConfig};
use anesbench_backend::{Backend, BackendError};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn least_outstanding_spreads_over_two_endpoints() {
    // A slow and a fast server: the fast one frees its slots sooner, so it must get more.
    let slow = server_always(Fault::Slow(Duration::from_millis(150))).await;
    let fast = server_always(Fault::Slow(Duration::from_millis(10))).await;
    let b = Arc::new(client(&[slow.url(), fast.url()], ApiStyle::Chat));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let b = b.clone();
        tasks.push(tokio::spawn(async move {
            for j in 0..10 {
                b.generate(&chat_request(&format!("q{i}-{j}\nA. a\nB. b")))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (s, f) = (slow.stats().chat, fast.stats().chat);
    assert_eq!(s + f, 80);
    assert!(s >= 8, "the slow endpoint still takes work ({s})");
    assert!(
        f > 3 * s,
        "fast endpoint should take most requests: slow {s}, fast {f}"
    );
    let h = b.endpoint_health();
    assert_eq!(h.iter().map(|e| e.ok).sum::<u64>(), 80);
    assert!(h.iter().all(|e| e.in_flight == 0 && e.alive));
}

#[tokio::test]
async fn equal_endpoints_share_concurrent_work() {
    let a = server_always(Fault::Slow(Duration::from_millis(50))).await;
    let c = server_always(Fault::Slow(Duration::from_millis(50))).await;
    let b = Arc::new(client(&[a.url(), c.url()], ApiStyle::Chat));
    let futs: Vec<_> = (0..20)
        .map(|i| {
            let b = b.clone();
            tokio::spawn(async move { b.generate(&chat_request(&format!("q{i}"))).await.unwrap() })
        })
        .collect();
    for f in futs {
        f.await.unwrap();
    }
    assert_eq!((a.stats().chat, c.stats().chat), (10, 10));
}

#[tokio::test]
async fn dead_endpoint_is_taken_out_and_work_goes_on() {
    let live = server_with(vec![]).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}");
    let b = client(&[dead.clone(), live.url()], ApiStyle::Chat);
    let mut connect_errors = 0;
    for i in 0..30 {
        match b.generate(&chat_request(&format!("q{i}"))).await {
            Ok(r) => assert_eq!(r.endpoint.as_deref(), Some(live.url().as_str())),
            Err(BackendError::Connect { url, .. }) => {
                assert!(url.starts_with(&dead));
                connect_errors += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(connect_errors, 3, "taken out after dead_after = 3 failures");
    let h = b.endpoint_health();
    assert!(!h[0].alive && h[0].last_error.as_deref().unwrap().contains("127.0.0.1"));
    assert!(h[1].alive);
    assert_eq!(live.stats().chat, 27);
}

#[tokio::test]
async fn readiness_reports_failing_endpoints() {
    let live = server_with(vec![]).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let b = client(
        &[format!("http://127.0.0.1:{port}/v1"), live.url()],
        ApiStyle::Chat,
    );
    b.ready().await.unwrap();
    let h = b.endpoint_health();
    assert!(!h[0].alive && h[0].last_error.as_deref().unwrap().contains("readiness"));
    assert!(h[1].alive && h[1].models == vec!["fake-model".to_string()]);
    assert_eq!(live.stats().models, 1);

    let none = client(&[format!("http://127.0.0.1:{port}")], ApiStyle::Chat);
    let e = none.ready().await.unwrap_err();
    assert!(
        matches!(e, BackendError::NoEndpoint(_)) && e.to_string().contains(&port.to_string()),
        "{e}"
    );
}

#[tokio::test]
async fn model_is_discovered_when_not_given() {
    let server = FakeServer::start(FakeConfig {
        model: "qwen-anes-7b".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let b = OpenAiBackend::new(OpenAiConfig::new(server.url())).unwrap();
    let e = b.generate(&chat_request(QUESTION)).await.unwrap_err();
    assert!(e.to_string().contains("--model"), "{e}");
    assert_eq!(b.discover_model().await.unwrap(), "qwen-anes-7b");
    assert_eq!(b.describe().model, "qwen-anes-7b");
    b.generate(&chat_request(QUESTION)).await.unwrap();
}

#[tokio::test]
async fn api_key_is_sent_as_bearer_and_never_shown() {
    let key = "sk-test-5e3c1a9f7b";
    let server = FakeServer::start(FakeConfig {
        api_key: Some(key.into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let b = OpenAiBackend::new(OpenAiConfig {
        api_key: Some(key.into()),
        model: Some("fake-model".into()),
        ..OpenAiConfig::new(server.url())
    })
    .unwrap();
    b.ready().await.unwrap();
    b.generate(&chat_request(QUESTION)).await.unwrap();
    assert_eq!(
        server.last_authorization().as_deref(),
        Some(format!("Bearer {key}").as_str())
    );
    assert_eq!(server.stats().authorized, 2);
    let shown = format!(
        "{b:?} {:?} {}",
        b.describe(),
        serde_json::to_string(&b.describe()).unwrap()
    );
    assert!(!shown.contains(key), "{shown}");

    // A wrong key is a non-retryable 401, and the error does not echo the key either.
    let wrong = OpenAiBackend::new(OpenAiConfig {
        api_key: Some("sk-wrong-000".into()),
        model: Some("m".into()),
        ..OpenAiConfig::new(server.url())
    })
    .unwrap();
    let e = wrong.generate(&chat_request(QUESTION)).await.unwrap_err();
    assert!(
        matches!(e, BackendError::Http { status: 401, .. }) && !e.retryable(),
        "{e:?}"
    );
    assert!(!e.to_string().contains("sk-wrong-000") && !format!("{e:?}").contains("sk-wrong-000"));
}
