//! LLaMA-Factory training configs (YAML) with the study's published settings as defaults.
//!
//! Study settings: continued pre-training is full fine-tuning at lr 1e-4 for 3 epochs with
//! cutoff 2048; SFT is lr 1e-5 for 5 epochs with cutoff 4096; both cosine schedules
//! (warmup 0.05 / 0.1) in bf16. Other keys are LLaMA-Factory's usual values and every key
//! can be overridden or added with `--set key=value`.

use std::str::FromStr;

use crate::error::DataError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Pt,
    Sft,
}

impl FromStr for Stage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pt" => Ok(Stage::Pt),
            "sft" => Ok(Stage::Sft),
            _ => Err(format!("unknown stage `{s}` (expected pt or sft)")),
        }
    }
}

/// A YAML scalar.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Null,
}

impl Value {
    /// `--set` values: `true`/`false`, `null`, integers, floats, otherwise text.
    pub fn parse(s: &str) -> Value {
        match s {
            "true" | "True" => Value::Bool(true),
            "false" | "False" => Value::Bool(false),
            "null" | "~" => Value::Null,
            _ => {
                if let Ok(i) = s.parse::<i64>() {
                    Value::Int(i)
                } else if let Ok(f) = s.parse::<f64>() {
                    Value::Float(f)
                } else {
                    Value::Str(s.to_string())
                }
            }
        }
    }

    fn yaml(&self) -> String {
        match self {
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            // LLaMA-Factory parses `1e-4` as a string (YAML 1.1); `1.0e-4` is a float.
            Value::Float(f) => {
                let s = format!("{f:e}");
                let (m, e) = s.split_once('e').expect("{:e} has an exponent");
                let m = if m.contains('.') {
                    m.to_string()
                } else {
                    format!("{m}.0")
                };
                if (1e-3..1e6).contains(&f.abs()) || *f == 0.0 {
                    let plain = f.to_string();
                    if plain.contains('.') {
                        plain
                    } else {
                        format!("{plain}.0")
                    }
                } else {
                    format!("{m}e{e}")
                }
            }
            Value::Str(s) => quote(s),
            Value::Null => "null".into(),
        }
    }
}

/// Quote a string when YAML would read it as something else.
fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || "-_./,@+".contains(c))
        && !matches!(
            Value::parse(s),
            Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::Null
        )
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("strings serialise")
    }
}

/// Known keys that take a number even where the study's config leaves them out.
const NUMBER_KEYS: &[&str] = &[
    "learning_rate",
    "num_train_epochs",
    "warmup_ratio",
    "warmup_steps",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "per_device_eval_batch_size",
    "logging_steps",
    "save_steps",
    "eval_steps",
    "val_size",
    "lora_rank",
    "lora_alpha",
];

/// Keys LLaMA-Factory reads that these configs commonly set; others draw a warning.
pub const KNOWN_KEYS: &[&str] = &[
    "model_name_or_path",
    "trust_remote_code",
    "stage",
    "do_train",
    "finetuning_type",
    "deepspeed",
    "dataset",
    "dataset_dir",
    "template",
    "cutoff_len",
    "max_samples",
    "overwrite_cache",
    "preprocessing_num_workers",
    "dataloader_num_workers",
    "packing",
    "streaming",
    "output_dir",
    "logging_steps",
    "save_steps",
    "save_strategy",
    "plot_loss",
    "overwrite_output_dir",
    "save_only_model",
    "report_to",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "learning_rate",
    "num_train_epochs",
    "lr_scheduler_type",
    "warmup_ratio",
    "warmup_steps",
    "bf16",
    "fp16",
    "ddp_timeout",
    "resume_from_checkpoint",
    "val_size",
    "per_device_eval_batch_size",
    "eval_strategy",
    "eval_steps",
    "lora_rank",
    "lora_alpha",
    "lora_dropout",
    "lora_target",
    "flash_attn",
    "enable_liger_kernel",
    "gradient_checkpointing",
    "weight_decay",
    "max_grad_norm",
    "seed",
    "run_name",
    "enable_thinking",
    "freeze_trainable_layers",
    "quantization_bit",
    "tokenized_path",
    "mix_strategy",
    "interleave_probs",
    "train_on_prompt",
    "mask_history",
    "neat_packing",
    "optim",
    "adam_beta1",
    "adam_beta2",
];

/// A config as ordered key/value pairs.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub stage: Stage,
    pub entries: Vec<(String, Value)>,
}

/// Template name guessed from the model name; `default` when unsure.
pub fn guess_template(model: &str) -> &'static str {
    let m = model.to_ascii_lowercase();
    if m.contains("qwen3") {
        "qwen3"
    } else if m.contains("qwen") {
        "qwen"
    } else if m.contains("llama-3") || m.contains("llama3") {
        "llama3"
    } else if m.contains("gemma") {
        "gemma"
    } else if m.contains("mistral") {
        "mistral"
    } else if m.contains("deepseek") && m.contains("r1") {
        "deepseekr1"
    } else if m.contains("glm") {
        "glm4"
    } else {
        "default"
    }
}

impl TrainConfig {
    pub fn study_defaults(stage: Stage, model: &str, dataset: &str) -> Self {
        use Value::*;
        let s = |x: &str| Str(x.to_string());
        let (stage_name, lr, epochs, cutoff, warmup, out) = match stage {
            Stage::Pt => ("pt", 1e-4, 3.0, 2048, 0.05, "saves/anesbench-cpt"),
            Stage::Sft => ("sft", 1e-5, 5.0, 4096, 0.1, "saves/anesbench-sft"),
        };
        let entries = vec![
            ("model_name_or_path", s(model)),
            ("trust_remote_code", Bool(true)),
            ("stage", s(stage_name)),
            ("do_train", Bool(true)),
            ("finetuning_type", s("full")),
            ("dataset", s(dataset)),
            ("dataset_dir", s("data")),
            ("template", s(guess_template(model))),
            ("cutoff_len", Int(cutoff)),
            ("overwrite_cache", Bool(true)),
            ("preprocessing_num_workers", Int(16)),
            ("output_dir", s(out)),
            ("logging_steps", Int(10)),
            ("save_steps", Int(500)),
            ("plot_loss", Bool(true)),
            ("overwrite_output_dir", Bool(true)),
            ("report_to", s("none")),
            ("per_device_train_batch_size", Int(1)),
            ("gradient_accumulation_steps", Int(8)),
            ("learning_rate", Float(lr)),
            ("num_train_epochs", Float(epochs)),
            ("lr_scheduler_type", s("cosine")),
            ("warmup_ratio", Float(warmup)),
            ("bf16", Bool(true)),
            ("ddp_timeout", Int(180000000)),
        ];
        TrainConfig {
            stage,
            entries: entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        }
    }

    /// Apply `key=value`; replaces in place or appends. A value of the wrong type for a
    /// key with a numeric or boolean default (`learning_rate=abc`) is refused. Returns a warning for keys not in
    /// [`KNOWN_KEYS`] (still applied: LLaMA-Factory has many more).
    pub fn set(&mut self, assignment: &str) -> Result<Option<String>, DataError> {
        let (k, v) = assignment.split_once('=').ok_or_else(|| {
            DataError::Input(format!(
                "--set `{assignment}`: expected key=value (e.g. --set learning_rate=2e-5)"
            ))
        })?;
        let k = k.trim();
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(DataError::Input(format!(
                "--set `{assignment}`: `{k}` is not a config key"
            )));
        }
        let value = Value::parse(v.trim());
        let current = self
            .get(k)
            .or_else(|| NUMBER_KEYS.contains(&k).then_some(&Value::Float(0.0)));
        let fits = match (current, &value) {
            (_, Value::Null) | (None, _) | (Some(Value::Str(_) | Value::Null), _) => true,
            (Some(Value::Bool(_)), v) => matches!(v, Value::Bool(_)),
            (Some(Value::Int(_)), v) => matches!(v, Value::Int(_)),
            (Some(Value::Float(_)), v) => matches!(v, Value::Int(_) | Value::Float(_)),
        };
        if !fits {
            let kind = match current {
                Some(Value::Bool(_)) => "true or false",
                Some(Value::Int(_)) => "a whole number",
                _ => "a number (e.g. 2e-5)",
            };
            return Err(DataError::Input(format!(
                "--set `{assignment}`: {k} takes {kind}, not `{}`",
                v.trim()
            )));
        }
        match self.entries.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((k.to_string(), value)),
        }
        Ok((!KNOWN_KEYS.contains(&k)).then(|| format!("--set {k}: not a key this tool knows; written as given (check the spelling against LLaMA-Factory's arguments)")))
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn to_yaml(&self) -> String {
        let mut out = String::from(match self.stage {
            Stage::Pt => "# LLaMA-Factory continued pre-training (study settings: full, lr 1e-4, 3 epochs, cutoff 2048, cosine, warmup 0.05, bf16)\n",
            Stage::Sft => "# LLaMA-Factory supervised fine-tuning (study settings: full, lr 1e-5, 5 epochs, cutoff 4096, cosine, warmup 0.1, bf16)\n",
        });
        out.push_str("# Written by `anesbench train-config`; run with `llamafactory-cli train <this file>`.\n");
        for (k, v) in &self.entries {
            out.push_str(&format!("{k}: {}\n", v.yaml()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn study_defaults_per_stage() {
        let pt = TrainConfig::study_defaults(Stage::Pt, "Qwen/Qwen2.5-7B", "anescorpus_en");
        let y = pt.to_yaml();
        for line in [
            "stage: pt",
            "finetuning_type: full",
            "learning_rate: 1.0e-4",
            "num_train_epochs: 3.0",
            "cutoff_len: 2048",
            "lr_scheduler_type: cosine",
            "warmup_ratio: 0.05",
            "bf16: true",
            "template: qwen",
            "model_name_or_path: Qwen/Qwen2.5-7B",
        ] {
            assert!(y.lines().any(|l| l == line), "missing `{line}` in\n{y}");
        }
        let sft = TrainConfig::study_defaults(Stage::Sft, "m", "d").to_yaml();
        for line in [
            "learning_rate: 1.0e-5",
            "num_train_epochs: 5.0",
            "cutoff_len: 4096",
            "warmup_ratio: 0.1",
        ] {
            assert!(sft.lines().any(|l| l == line), "missing `{line}` in\n{sft}");
        }
    }

    #[test]
    fn set_learning_rate_abc_is_refused() {
        let mut c = TrainConfig::study_defaults(Stage::Sft, "m", "d");
        let e = c.set("learning_rate=abc").unwrap_err().to_string();
        assert!(e.contains("learning_rate takes a number"), "{e}");
        assert_eq!(
            c.get("learning_rate"),
            Some(&Value::Float(1e-5)),
            "left as it was"
        );
        assert!(
            c.set("lora_rank=eight").is_err(),
            "a number key absent from the defaults"
        );
        assert!(c.set("learning_rate=3").is_ok(), "an integer is a number");
        assert!(c.set("template=qwen").is_ok());
    }

    #[test]
    fn set_overrides_in_place_and_types_values() {
        let mut c = TrainConfig::study_defaults(Stage::Sft, "m", "d");
        assert_eq!(c.set("learning_rate=2e-5").unwrap(), None);
        assert_eq!(c.get("learning_rate"), Some(&Value::Float(2e-5)));
        c.set("finetuning_type=lora").unwrap();
        assert!(c.set("lora_rank=8").unwrap().is_none());
        assert!(c.set("lerning_rate=1").unwrap().is_some());
        assert!(c.set("no_equals").is_err());
        let y = c.to_yaml();
        assert!(y.contains("learning_rate: 2.0e-5\n"), "{y}");
        assert!(y.contains("finetuning_type: lora\n"));
        assert_eq!(y.matches("learning_rate:").count(), 1);
        assert_eq!(quote("yes"), "\"yes\"");
        assert_eq!(quote("1.5"), "\"1.5\"");
    }
}
