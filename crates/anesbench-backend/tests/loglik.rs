//! Log-likelihood scoring over `/v1/completions` with `logprobs`.

mod common;

use anesbench_backend::fake::{FakeConfig, FakeServer};
use anesbench_backend::openai::{loglik::MISSING_GAP, ApiStyle};
use anesbench_backend::{Backend, BackendError, LoglikRequest, Prompt};
use common::*;

fn req(candidates: &[&str]) -> LoglikRequest {
    LoglikRequest {
        prompt: Prompt::Text(format!("{QUESTION}\nAnswer:")),
        candidates: candidates.iter().map(|s| s.to_string()).collect(),
        shared_prefix: None,
    }
}

#[tokio::test]
async fn top_logprobs_map_onto_letters() {
    let server = FakeServer::start(FakeConfig {
        fixed_answer: Some('B'),
        record_bodies: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let b = client(&[server.url()], ApiStyle::Chat);
    let r = b.loglik(&req(&["A", "B", "C", "D", "E"])).await.unwrap();
    // The fake lists " B" at -0.05 and "B" at -3.5: their probabilities add up, as the
    // embedded backend combines `X` and ` X`.
    let want = ((-0.05f64).exp() + (-3.5f64).exp()).ln();
    assert!((r.logprobs[1] - want).abs() < 1e-12, "{}", r.logprobs[1]);
    assert_eq!(r.logprobs[0], -2.0);
    assert_eq!(r.logprobs[2], -3.0);
    assert_eq!(r.logprobs[3], -4.0);
    // `E` is not an option of the question, so it is not listed: below the lowest listed.
    assert_eq!(r.logprobs[4], -6.0 - MISSING_GAP);
    assert!(r.prompt_tokens.unwrap() > 5);
    let body = &server.bodies()[0];
    assert_eq!(
        (
            body["max_tokens"].as_u64(),
            body["logprobs"].as_u64(),
            body["echo"].as_bool()
        ),
        (Some(1), Some(20), Some(false))
    );
    assert_eq!(body["temperature"], 0.0);
    assert_eq!(
        server.stats().completions,
        1,
        "loglik always uses /v1/completions"
    );
}

#[tokio::test]
async fn no_logprobs_is_unsupported_naming_the_endpoint() {
    let server = FakeServer::start(FakeConfig {
        logprobs: false,
        ..Default::default()
    })
    .await
    .unwrap();
    let b = client(&[server.url()], ApiStyle::Chat);
    let e = b.loglik(&req(&["A", "B"])).await.unwrap_err();
    let BackendError::Unsupported(msg) = &e else {
        panic!("{e:?}")
    };
    assert!(
        msg.contains(&server.url()) && msg.contains("/v1/completions") && msg.contains("logprobs"),
        "{msg}"
    );
    assert!(!e.retryable());
}

/// One HTTP server that answers every request with `body` (JSON), as a real server would
/// have: for replies whose exact shape matters.
async fn serve_json(body: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                // Read the head and the body its Content-Length announces.
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    url
}

/// llama.cpp's `llama-server` (b11434) reply to a one-token `/v1/completions` request
/// with `logprobs`, as captured: the chosen token heads its own `top_logprobs` list.
const LLAMA_SERVER_REPLY: &str = r#"{"choices":[{"text":" B","index":0,"logprobs":{"content":[{"id":330,"token":" B","bytes":[32,66],"logprob":-0.35,"top_logprobs":[{"id":330,"token":" B","bytes":[32,66],"logprob":-0.35},{"id":389,"token":" A","bytes":[32,65],"logprob":-1.9},{"id":33,"token":"B","bytes":[66],"logprob":-3.0},{"id":340,"token":" C","bytes":[32,67],"logprob":-2.4}]}]},"finish_reason":"length"}],"created":1,"model":"model","object":"text_completion","usage":{"completion_tokens":1,"prompt_tokens":9,"total_tokens":10}}"#;

#[tokio::test]
async fn the_chosen_token_is_not_counted_twice_when_it_heads_its_own_top_list() {
    // Before the fix the chosen ` B` was read from the entry and again from its top list,
    // so option B scored ln 2 nats too high and the greedy letter won ties it should not:
    // 3 of 32 letters changed against the embedded model in `bench solver` at 5-shot.
    let url = serve_json(LLAMA_SERVER_REPLY).await;
    let b = client(&[url], ApiStyle::Chat);
    let r = b.loglik(&req(&["A", "B", "C", "D"])).await.unwrap();
    let want_b = ((-0.35f64).exp() + (-3.0f64).exp()).ln();
    assert!(
        (r.logprobs[1] - want_b).abs() < 1e-12,
        "B: {} (want {want_b}; ln 2 too high is the double count)",
        r.logprobs[1]
    );
    assert_eq!(r.logprobs[0], -1.9);
    assert_eq!(r.logprobs[2], -2.4);
    assert_eq!(r.logprobs[3], -3.0 - MISSING_GAP);
    assert_eq!(r.prompt_tokens, Some(9));
}
