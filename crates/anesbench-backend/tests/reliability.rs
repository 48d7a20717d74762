//! Regression tests for three reliability defects: endpoint restarts, secrets and
//! limits, and the missing `max_tokens` default. Every server here is started by the
//! test on 127.0.0.1; every loop is bounded.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anesbench_backend::fake::{FakeConfig, FakeServer};
use anesbench_backend::openai::{ApiStyle, OpenAiBackend, OpenAiConfig};
use anesbench_backend::{Backend, BackendError, GenParams, GenRequest, GenResponse, Prompt};
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Starts a fake server on `addr` again, waiting out a port still being released.
async fn restart_on(addr: SocketAddr) -> FakeServer {
    for _ in 0..100 {
        if let Ok(s) = FakeServer::start_on(&addr.to_string(), FakeConfig::default()).await {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("cannot bind {addr} again");
}

/// What the runner does: retry while `retryable()`, with a short wait, bounded.
async fn with_retries(b: &OpenAiBackend, req: &GenRequest) -> Result<GenResponse, BackendError> {
    let mut last = None;
    for _ in 0..60 {
        match b.generate(req).await {
            Ok(r) => return Ok(r),
            Err(e) if e.retryable() => last = Some(e),
            Err(e) => return Err(e),
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    Err(last.expect("at least one attempt"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_restarts_single_server_does_not_fail_the_queue() {
    let first = FakeServer::start(FakeConfig::default()).await.unwrap();
    let addr = first.addr();
    let b = client(&[first.url()], ApiStyle::Chat);
    let slot = Arc::new(Mutex::new(Some(first)));
    let mut restarted = None;
    for i in 0..12 {
        if i == 3 {
            // The server goes away for ~2 s, then comes back on the same port.
            drop(slot.lock().unwrap().take());
            // Dropping aborts the server's task, which takes effect when a worker next
            // polls it; until then a kept-alive connection could still answer request 3
            // (seen once in CI: the restarted server then took 8, not 9).
            tokio::time::sleep(Duration::from_millis(200)).await;
            let slot = slot.clone();
            restarted = Some(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(2)).await;
                let s = restart_on(addr).await;
                *slot.lock().unwrap() = Some(s);
            }));
        }
        let r = with_retries(&b, &chat_request(&format!("q{i}\nA. a\nB. b")))
            .await
            .unwrap_or_else(|e| panic!("request {i} failed for good: {e}"));
        assert!(r.content.is_some());
    }
    restarted.unwrap().await.unwrap();
    let h = &b.endpoint_health()[0];
    assert!(h.alive, "{h:?}");
    assert!(h.ok >= 12, "{h:?}");
    let served_after = slot.lock().unwrap().as_ref().unwrap().stats().chat;
    assert!(
        served_after >= 9,
        "the restarted server took the rest ({served_after})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_restarts_removed_endpoint_is_probed_and_serves_again() {
    let a = FakeServer::start(FakeConfig::default()).await.unwrap();
    let other = FakeServer::start(FakeConfig::default()).await.unwrap();
    let (a_addr, a_url) = (a.addr(), a.url());
    let b = client(&[a_url.clone(), other.url()], ApiStyle::Chat);
    for i in 0..4 {
        b.generate(&chat_request(&format!("warm{i}")))
            .await
            .unwrap();
    }
    drop(a);
    // Requests keep going; A's connect failures take it out.
    let mut n = 0;
    while b.endpoint_health()[0].alive {
        n += 1;
        assert!(n < 50, "A never taken out: {:?}", b.endpoint_health());
        let _ = b.generate(&chat_request(&format!("down{n}"))).await;
    }
    for i in 0..5 {
        let r = b
            .generate(&chat_request(&format!("only{i}")))
            .await
            .unwrap();
        assert_eq!(r.endpoint.as_deref(), Some(other.url().as_str()));
    }
    let a2 = restart_on(a_addr).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut back = false;
    let mut i = 0;
    while Instant::now() < deadline {
        i += 1;
        if let Ok(r) = b.generate(&chat_request(&format!("after{i}"))).await {
            if r.endpoint.as_deref() == Some(a_url.as_str()) {
                back = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        back,
        "revived endpoint never served: {:?}",
        b.endpoint_health()
    );
    assert!(b.endpoint_health()[0].alive);
    assert!(
        a2.stats().chat >= 1 && a2.stats().models >= 1,
        "probed with GET /v1/models"
    );
}

#[tokio::test]
async fn endpoint_restarts_no_endpoint_left_is_retryable() {
    let e = BackendError::NoEndpoint("http://127.0.0.1:1 (connection refused)".into());
    assert!(e.retryable());
}

/// A raw HTTP server that answers every request with `status` and a body echoing the
/// request head (request line with the query, Authorization header) plus `extra`.
async fn echo_server(status: &'static str, extra: String) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for _ in 0..64 {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let extra = extra.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let body = format!(
                    "{{\"error\":\"you sent: {}\"}} {extra}",
                    String::from_utf8_lossy(&head).replace("\r\n", " | ")
                );
                let reply = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    addr
}

fn assert_clean(what: &str, shown: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!shown.contains(s), "{what} shows `{s}`: {shown}");
    }
}

#[tokio::test]
async fn secrets_and_limits_url_credentials_are_used_but_never_shown() {
    let server = FakeServer::start(FakeConfig::default()).await.unwrap();
    let port = server.addr().port();
    let url = format!("http://user:hunter2@127.0.0.1:{port}/v1?api_key=sekrit");
    let b = client(std::slice::from_ref(&url), ApiStyle::Chat);
    b.ready().await.unwrap();
    let r = b.generate(&chat_request(QUESTION)).await.unwrap();
    // The request really went out with the credentials: userinfo as basic auth.
    let auth = server.last_authorization().unwrap_or_default();
    assert_eq!(auth, "Basic dXNlcjpodW50ZXIy", "user:hunter2 as basic auth");
    let secrets = ["hunter2", "sekrit", "dXNlcjpodW50ZXIy"];
    let info = b.describe();
    assert_clean(
        "describe()",
        &serde_json::to_string(&info).unwrap(),
        &secrets,
    );
    assert_eq!(
        info.endpoints,
        vec![format!("http://***@127.0.0.1:{port}?api_key=***")]
    );
    assert_clean(
        "GenResponse.endpoint",
        r.endpoint.as_deref().unwrap(),
        &secrets,
    );
    assert_clean(
        "endpoint_health",
        &format!("{:?}", b.endpoint_health()),
        &secrets,
    );
    assert_clean("Debug", &format!("{b:?}"), &secrets);
    let cfg = OpenAiConfig::new(url.clone());
    assert_clean("OpenAiConfig Debug", &format!("{cfg:?}"), &secrets);
}

#[tokio::test]
async fn secrets_and_limits_error_bodies_are_redacted_and_capped() {
    let key = "sk-live-0123456789abcdef";
    let addr = echo_server(
        "500 Internal Server Error",
        format!(
            "also echoed: {key} Bearer {key} hunter2 sekrit {}",
            "x".repeat(4000)
        ),
    )
    .await;
    let port = addr.port();
    for (url, api_key, password) in [
        (
            format!("http://user:hunter2@127.0.0.1:{port}/v1?api_key=sekrit"),
            None,
            "hunter2",
        ),
        (
            format!("http://127.0.0.1:{port}/v1?api_key=sekrit"),
            Some(key.to_string()),
            // No password in this URL; the base64 of the first one must still go.
            "dXNlcjpodW50ZXIy",
        ),
    ] {
        let b = OpenAiBackend::new(OpenAiConfig {
            endpoints: vec![url],
            model: Some("m".into()),
            api_key,
            request_timeout: Duration::from_secs(5),
            ..OpenAiConfig::default()
        })
        .unwrap();
        let e = b.generate(&chat_request(QUESTION)).await.unwrap_err();
        let BackendError::Http { status, body, .. } = &e else {
            panic!("{e:?}");
        };
        assert_eq!(*status, 500);
        assert!(body.contains("you sent"), "{body}");
        assert!(
            body.len() <= 512 + 3,
            "body kept whole: {} bytes",
            body.len()
        );
        let secrets = [
            password,
            "sekrit",
            "dXNlcjpodW50ZXIy",
            key,
            "0123456789abcdef",
        ];
        assert_clean("error Display", &e.to_string(), &secrets);
        assert_clean("error Debug", &format!("{e:?}"), &secrets);
        assert_clean(
            "endpoint_health",
            &format!("{:?}", b.endpoint_health()),
            &secrets,
        );
    }
}

/// A server whose 200 reply body never ends (chunked, bounded at 512 MiB so the test
/// cannot run away).
async fn endless_body_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let mut buf = [0u8; 8192];
        let _ = sock.read(&mut buf).await;
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        if sock.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let mut chunk = format!("{:x}\r\n", 1 << 20).into_bytes();
        chunk.extend(std::iter::repeat_n(b' ', 1 << 20));
        chunk.extend_from_slice(b"\r\n");
        for _ in 0..512 {
            if sock.write_all(&chunk).await.is_err() {
                return;
            }
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_and_limits_endless_body_is_an_error_not_a_hang() {
    let addr = endless_body_server().await;
    let b = OpenAiBackend::new(OpenAiConfig {
        endpoints: vec![format!("http://{addr}")],
        model: Some("m".into()),
        request_timeout: Duration::from_secs(60),
        ..OpenAiConfig::default()
    })
    .unwrap();
    let t0 = Instant::now();
    let e = tokio::time::timeout(Duration::from_secs(90), b.generate(&chat_request(QUESTION)))
        .await
        .expect("the client hung")
        .unwrap_err();
    assert!(
        matches!(&e, BackendError::BadBody { message, .. } if message.contains("limit")),
        "{e:?}"
    );
    assert!(t0.elapsed() < Duration::from_secs(50), "{:?}", t0.elapsed());
}

#[tokio::test]
async fn completions_without_max_tokens_sends_the_chat_default() {
    let server = FakeServer::start(FakeConfig {
        record_bodies: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let req = GenRequest {
        prompt: Prompt::Text(format!("{QUESTION}\nAnswer:")),
        params: GenParams::default(),
    };
    for style in [ApiStyle::Completions, ApiStyle::Chat] {
        client(&[server.url()], style).generate(&req).await.unwrap();
    }
    let bodies = server.bodies();
    assert!(bodies[0].get("prompt").is_some() && bodies[1].get("messages").is_some());
    let limits: Vec<_> = bodies
        .iter()
        .map(|b| b.get("max_tokens").cloned())
        .collect();
    assert!(
        limits[0]
            .as_ref()
            .and_then(|v| v.as_u64())
            .is_some_and(|m| m > 16),
        "completions body has no real limit: {limits:?}"
    );
    assert_eq!(limits[0], limits[1], "both styles send the same default");
}
