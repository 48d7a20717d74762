#![allow(dead_code)]

use std::time::Duration;

use anesbench_backend::fake::{FakeConfig, FakeServer, Fault, FaultRule, Trigger};
use anesbench_backend::openai::{ApiStyle, OpenAiBackend, OpenAiConfig};
use anesbench_backend::{ChatMessage, GenParams, GenRequest, Prompt};

pub const QUESTION: &str = "Which induction agent is an NMDA receptor antagonist?\nA. Propofol\nB. Ketamine\nC. Etomidate\nD. Thiopental";

pub fn chat_request(text: &str) -> GenRequest {
    GenRequest {
        prompt: Prompt::Chat(vec![
            ChatMessage::new("system", "You are an anaesthesiology assistant."),
            ChatMessage::new("user", text),
        ]),
        params: GenParams {
            temperature: Some(0.0),
            max_tokens: Some(256),
            ..GenParams::default()
        },
    }
}

/// The text the fake server sees for [`chat_request`].
pub fn seen_text(text: &str) -> String {
    format!("You are an anaesthesiology assistant.\n\n{text}")
}

pub async fn server_with(faults: Vec<FaultRule>) -> FakeServer {
    FakeServer::start(FakeConfig {
        faults,
        hang: Duration::from_secs(30),
        ..FakeConfig::default()
    })
    .await
    .unwrap()
}

pub async fn server_always(fault: Fault) -> FakeServer {
    server_with(vec![FaultRule::new(Trigger::Always, fault)]).await
}

pub fn client(urls: &[String], style: ApiStyle) -> OpenAiBackend {
    OpenAiBackend::new(OpenAiConfig {
        endpoints: urls.to_vec(),
        model: Some("fake-model".into()),
        style,
        request_timeout: Duration::from_millis(800),
        connect_timeout: Duration::from_millis(500),
        ..OpenAiConfig::default()
    })
    .unwrap()
}
