//! Reward-model clients against fake servers speaking each documented shape.

use std::sync::Arc;

use anesbench_backend::fake::reward::{FakeRewardServer, ScoreFn};
use anesbench_backend::openai::OpenAiConfig;
use anesbench_backend::reward::{HttpScorer, RewardApi, RewardFormat, ScoreInput, Scorer};
use anesbench_core::record::sha256_hex;

/// 0.9 for a text that says "good", else 0.2.
fn good() -> ScoreFn {
    Arc::new(|t: &str| if t.contains("good") { 0.9 } else { 0.2 })
}

fn inputs() -> Vec<ScoreInput> {
    vec![
        ScoreInput {
            system: Some("Reason step by step.".into()),
            question: "Q?".into(),
            steps: vec!["a good start".into(), "a bad turn".into()],
        },
        ScoreInput {
            system: Some("Reason step by step.".into()),
            question: "Q?".into(),
            steps: vec!["bad".into(), "good end".into(), "good".into()],
        },
    ]
}

async fn scorer(api: RewardApi, format: RewardFormat) -> (FakeRewardServer, HttpScorer) {
    let server = FakeRewardServer::start(api, good(), None).await.unwrap();
    let cfg = OpenAiConfig {
        model: Some("fake-prm".into()),
        ..OpenAiConfig::new(server.url())
    };
    (server, HttpScorer::new(cfg, api, format).unwrap())
}

#[tokio::test]
async fn vllm_pooling_gives_p_pos_per_step_separator() {
    let (server, s) = scorer(RewardApi::VllmPooling, RewardFormat::QwenPrm).await;
    let b = s.score(&inputs()).await.unwrap();
    assert_eq!(b.requests, 1, "one request for both candidates");
    assert_eq!(b.scores[0].step_rewards, Some(vec![0.9, 0.2]));
    assert_eq!(b.scores[1].step_rewards, Some(vec![0.2, 0.9, 0.9]));
    assert_eq!(b.scores[1].reward, 0.9);
    assert!(b.input_tokens > 0);
    let body = &server.bodies()[0];
    assert_eq!(body["task"], "token_classify");
    assert_eq!(body["model"], "fake-prm");
    let text = body["input"][0].as_str().unwrap();
    assert!(
        text.ends_with("a good start<extra_0>a bad turn<extra_0><|im_end|>\n"),
        "{text}"
    );
    assert!(
        !text.ends_with("<|im_start|>assistant\n"),
        "no generation prompt"
    );
    // The record's hash is of the exact text sent.
    assert_eq!(b.scores[0].input_hash, sha256_hex(text.as_bytes()));
}

#[tokio::test]
async fn vllm_classify_reads_the_last_class_probability() {
    let (server, s) = scorer(RewardApi::VllmClassify, RewardFormat::Plain).await;
    let b = s.score(&inputs()).await.unwrap();
    // The whole answer is scored: both mention "good" somewhere.
    assert_eq!(
        (b.scores[0].reward, b.scores[0].step_rewards.clone()),
        (0.9, None)
    );
    assert!(server.bodies()[0]["input"].is_array());
}

#[tokio::test]
async fn vllm_score_sends_the_question_as_text_1() {
    let (server, s) = scorer(RewardApi::VllmScore, RewardFormat::Plain).await;
    let mut ins = inputs();
    ins[0].steps = vec!["nothing".into()];
    let b = s.score(&ins).await.unwrap();
    assert_eq!(
        b.scores.iter().map(|x| x.reward).collect::<Vec<_>>(),
        vec![0.2, 0.9]
    );
    let body = &server.bodies()[0];
    assert_eq!(body["text_1"], "Reason step by step.\n\nQ?");
    assert_eq!(body["text_2"][1], "bad\n\ngood end\n\ngood");
}

#[tokio::test]
async fn sglang_classify_takes_text_and_reads_embedding_0() {
    let (server, s) = scorer(RewardApi::SglangClassify, RewardFormat::QwenPrm).await;
    let b = s.score(&inputs()).await.unwrap();
    assert_eq!(b.scores[1].reward, 0.9);
    assert!(server.bodies()[0]["text"].is_array());
    assert!(b.input_tokens > 0);
}

#[tokio::test]
async fn a_wrong_key_is_masked_in_the_error_and_pooling_needs_the_prm_format() {
    let server = FakeRewardServer::start(RewardApi::VllmClassify, good(), Some("right".into()))
        .await
        .unwrap();
    let cfg = OpenAiConfig {
        model: Some("fake-prm".into()),
        api_key: Some("sk-wrong-secret-key".into()),
        ..OpenAiConfig::new(server.url())
    };
    let s = HttpScorer::new(cfg, RewardApi::VllmClassify, RewardFormat::Plain).unwrap();
    let e = s.score(&inputs()).await.unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("401") && !msg.contains("sk-wrong-secret-key"),
        "{msg}"
    );
    assert!(!e.retryable());
    let e = HttpScorer::new(
        OpenAiConfig::new(server.url()),
        RewardApi::VllmPooling,
        RewardFormat::Plain,
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("qwen-prm"));
}
