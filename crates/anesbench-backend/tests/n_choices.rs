//! Several samples of one prompt in one request (`"n": N`): every choice parsed, the
//! probe and the fallback for a server that ignores `n`, the setting, and what the
//! manifest is told.

mod common;

use std::time::Duration;

use anesbench_backend::fake::{FakeConfig, FakeServer, Script};
use anesbench_backend::openai::{ApiStyle, NPerRequest, OpenAiBackend, OpenAiConfig, MAX_N};
use anesbench_backend::{Backend, GenParams, GenRequest, Prompt};

fn script() -> Script {
    Script::letters(
        40,
        &[
            (Some('B'), -0.5),
            (Some('C'), -1.25),
            (None, -0.75),
            (Some('B'), -2.0),
        ],
    )
}

async fn server(n_choices: bool) -> FakeServer {
    FakeServer::start(FakeConfig {
        n_choices,
        script: Some(script()),
        record_bodies: true,
        api_key: Some("sk-n-secret-77".into()),
        ..FakeConfig::default()
    })
    .await
    .unwrap()
}

fn client(url: &str, style: ApiStyle, n: NPerRequest) -> OpenAiBackend {
    OpenAiBackend::new(OpenAiConfig {
        endpoints: vec![url.to_string()],
        model: Some("fake-model".into()),
        api_key: Some("sk-n-secret-77".into()),
        style,
        request_timeout: Duration::from_secs(5),
        n_per_request: n,
        ..OpenAiConfig::default()
    })
    .unwrap()
}

fn sampled(seed: u64) -> GenRequest {
    GenRequest {
        prompt: Prompt::Text(common::QUESTION.into()),
        params: GenParams {
            temperature: Some(0.8),
            seed: Some(seed),
            max_tokens: Some(64),
            logprobs: true,
            ..GenParams::default()
        },
    }
}

#[tokio::test]
async fn one_request_with_n_returns_every_choice_with_its_own_text_logprob_and_tokens() {
    for style in [ApiStyle::Chat, ApiStyle::Completions] {
        let s = server(true).await;
        let b = client(&s.url(), style, NPerRequest::On);
        assert_eq!(b.max_choices(), MAX_N);
        let got = b.generate_n(&sampled(40), 4).await.unwrap();
        assert_eq!(s.generation_requests(), 1, "{style:?}: one request");
        assert_eq!(s.bodies()[0]["n"], 4);
        assert_eq!(s.bodies()[0]["seed"], 40);
        assert_eq!(got.len(), 4);
        let texts: Vec<_> = got.iter().map(|r| r.content.clone().unwrap()).collect();
        assert!(texts[0].ends_with("The answer is B."), "{texts:?}");
        assert!(texts[1].ends_with("The answer is C."));
        assert_eq!(texts[2], "I am not sure about this one.");
        let lps: Vec<_> = got.iter().map(|r| r.mean_logprob.unwrap()).collect();
        assert_eq!(lps, vec![-0.5, -1.25, -0.75, -2.0], "{style:?}");
        // Tokens per choice come from each choice's own log-probabilities: 9, 9, 7, 9
        // words, not the request's total of 34 split four ways.
        let toks: Vec<_> = got.iter().map(|r| r.completion_tokens.unwrap()).collect();
        assert_eq!(toks, vec![9, 9, 7, 9], "{style:?}");
        assert!(got
            .iter()
            .all(|r| r.endpoint.as_deref() == Some(s.url().as_str())));
        assert_eq!(s.stats().choices, 4);
    }
}

#[tokio::test]
async fn a_server_that_ignores_n_is_marked_and_then_asked_once_per_sample() {
    let s = server(false).await;
    let b = client(&s.url(), ApiStyle::Chat, NPerRequest::On);
    let got = b.generate_n(&sampled(40), 4).await.unwrap();
    assert_eq!(got.len(), 1, "the server's one choice comes back");
    assert!(got[0].content.as_deref().unwrap().ends_with("is B."));
    assert_eq!(
        b.max_choices(),
        1,
        "the only endpoint ignores n: one sample per request from now on"
    );
    let again = b.generate_n(&sampled(41), 3).await.unwrap();
    assert_eq!(again.len(), 1);
    assert!(
        s.bodies()[1].get("n").is_none(),
        "no n sent to an endpoint known to ignore it: {}",
        s.bodies()[1]
    );
    let d = b.describe();
    assert_eq!(d.details["n_per_request"]["setting"], "on");
    assert_eq!(
        d.details["n_per_request"]["endpoints"][s.url().as_str()],
        "ignored"
    );
}

#[tokio::test]
async fn auto_probes_each_endpoint_once_and_records_the_path_without_the_key() {
    let keeps = server(true).await;
    let ignores = server(false).await;
    let b = OpenAiBackend::new(OpenAiConfig {
        endpoints: vec![keeps.url(), ignores.url()],
        model: Some("fake-model".into()),
        api_key: Some("sk-n-secret-77".into()),
        ..OpenAiConfig::default()
    })
    .unwrap();
    assert_eq!(b.n_per_request(), NPerRequest::Auto);
    let d = b.describe();
    assert_eq!(
        d.details["n_per_request"]["endpoints"][keeps.url().as_str()],
        "unknown"
    );
    let probes = b.probe_n().await;
    assert_eq!(probes.len(), 2);
    assert_eq!(probes[0].keeps_n, Some(true));
    assert_eq!(probes[1].keeps_n, Some(false));
    for s in [&keeps, &ignores] {
        let body = &s.bodies()[0];
        assert_eq!(
            (body["n"].as_u64(), body["max_tokens"].as_u64()),
            (Some(2), Some(1))
        );
        assert!(body.get("seed").is_none());
    }
    assert_eq!(b.max_choices(), MAX_N, "one endpoint keeps n");
    let d = serde_json::to_string(&b.describe()).unwrap();
    assert!(d.contains("\"kept\"") && d.contains("\"ignored\""), "{d}");
    assert!(!d.contains("sk-n-secret-77"));

    // Only the endpoint that ignores n: the runner is told to ask once per sample.
    let solo = client(&ignores.url(), ApiStyle::Chat, NPerRequest::Auto);
    solo.probe_n().await;
    assert_eq!(solo.max_choices(), 1);
}

#[tokio::test]
async fn off_never_sends_n_and_never_probes() {
    let s = server(true).await;
    let b = client(&s.url(), ApiStyle::Chat, NPerRequest::Off);
    assert!(b.probe_n().await.is_empty());
    assert_eq!(b.max_choices(), 1);
    let got = b.generate_n(&sampled(42), 2).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(s.generation_requests(), 1);
    assert!(s.bodies()[0].get("n").is_none());
    assert_eq!(
        got[0].content.as_deref(),
        Some("I am not sure about this one.")
    );
    assert_eq!(
        b.describe().details["n_per_request"]["endpoints"][s.url().as_str()],
        "off"
    );
}

#[tokio::test]
async fn a_seed_outside_the_script_is_a_clear_error() {
    let s = server(true).await;
    let b = client(&s.url(), ApiStyle::Chat, NPerRequest::On);
    let e = b.generate_n(&sampled(42), 4).await.unwrap_err();
    assert!(
        e.to_string().contains("no scripted reply for seed 44"),
        "{e}"
    );
}
