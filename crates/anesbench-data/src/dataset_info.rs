//! `dataset_info.json` entries as LLaMA-Factory reads them, merged into an existing file
//! (entries with other names are kept; an entry with the same name is replaced).

use std::path::Path;

use serde_json::{json, Map, Value};

use crate::error::DataError;

/// The shape of a dataset file, which decides its `dataset_info.json` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `{"text": ..}` for `stage: pt`.
    Pretrain,
    /// `instruction / input / output`.
    Alpaca,
    /// `conversations: [{from, value}, ..]`.
    ShareGpt,
    /// `{prompt, answer}`: registered as alpaca prompt/response so LLaMA-Factory can load
    /// it; RL trainers read `prompt` and the ground truth `answer`.
    Verifiable,
}

pub fn entry(file_name: &str, layout: Layout) -> Value {
    match layout {
        Layout::Pretrain => json!({"file_name": file_name, "columns": {"prompt": "text"}}),
        Layout::Alpaca => json!({
            "file_name": file_name,
            "formatting": "alpaca",
            "columns": {"prompt": "instruction", "query": "input", "response": "output"}
        }),
        Layout::ShareGpt => json!({
            "file_name": file_name,
            "formatting": "sharegpt",
            "columns": {"messages": "conversations"},
            "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"}
        }),
        Layout::Verifiable => json!({
            "file_name": file_name,
            "formatting": "alpaca",
            "columns": {"prompt": "prompt", "response": "answer"}
        }),
    }
}

/// Add or replace `entries` in `path`, keeping every other entry and its order.
pub fn merge(path: &Path, entries: &[(String, Value)]) -> Result<(), DataError> {
    let mut info: Map<String, Value> =
        match std::fs::read_to_string(path) {
            Ok(text) if text.trim().is_empty() => Map::new(),
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(m)) => m,
                Ok(_) => return Err(DataError::Json {
                    path: path.into(),
                    detail:
                        "dataset_info.json must be a JSON object of dataset entries; not changed"
                            .into(),
                }),
                Err(e) => {
                    return Err(DataError::Json {
                        path: path.into(),
                        detail: format!("{e}; not changed (fix or remove it and convert again)"),
                    })
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
            Err(e) => return Err(DataError::io(path, e)),
        };
    for (name, value) in entries {
        info.insert(name.clone(), value.clone());
    }
    let tmp = path.with_extension("json.partial");
    let text = serde_json::to_string_pretty(&Value::Object(info)).expect("JSON values serialise");
    std::fs::write(&tmp, text + "\n").map_err(|e| DataError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| DataError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_other_entries_and_replaces_same_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dataset_info.json");
        std::fs::write(&p, r#"{"alpaca_en_demo": {"file_name": "alpaca_en_demo.json"}, "mine": {"file_name": "old.json"}}"#).unwrap();
        merge(&p, &[("mine".into(), entry("new.jsonl", Layout::Pretrain))]).unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        assert_eq!(v["alpaca_en_demo"]["file_name"], "alpaca_en_demo.json");
        assert_eq!(v["mine"]["file_name"], "new.jsonl");
        assert_eq!(v["mine"]["columns"]["prompt"], "text");
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["alpaca_en_demo", "mine"]);
    }

    #[test]
    fn merge_refuses_a_broken_file_and_leaves_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dataset_info.json");
        std::fs::write(&p, "{not json").unwrap();
        let e = merge(&p, &[("x".into(), entry("x.json", Layout::Alpaca))]).unwrap_err();
        assert!(e.to_string().contains("dataset_info.json"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{not json");
    }
}
