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
