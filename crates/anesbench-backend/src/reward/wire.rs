//! Request bodies and reply parsing of each reward API.

use serde_json::{json, Value};

use super::RewardApi;

/// The body for `texts` (or, for `/score`, one `query` and the answers in `texts`).
pub(crate) fn body(api: RewardApi, model: &str, query: Option<&str>, texts: &[String]) -> Value {
    match api {
        RewardApi::VllmPooling => json!({"model": model, "input": texts, "task": "token_classify"}),
        RewardApi::VllmClassify => json!({"model": model, "input": texts}),
        RewardApi::VllmScore => {
            json!({"model": model, "text_1": query.unwrap_or(""), "text_2": texts})
        }
        RewardApi::SglangClassify => json!({"model": model, "text": texts}),
    }
}

/// Per input: the rewards it got (one per step for `/pooling`, one otherwise), and the
/// tokens read.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub rewards: Vec<Vec<f64>>,
    pub input_tokens: u64,
}

fn num(v: &Value, what: &str) -> Result<f64, String> {
    v.as_f64()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("{what} is not a finite number: {v}"))
}

/// `data[]` sorted by `index` (vLLM may answer out of order), checked to hold `n` entries.
fn data_by_index(v: &Value, n: usize) -> Result<Vec<&Value>, String> {
    let data = v
        .get("data")
        .and_then(Value::as_array)
        .ok_or("reply has no `data` list")?;
    let mut rows: Vec<(u64, &Value)> = data
        .iter()
        .enumerate()
        .map(|(i, d)| {
            (
                d.get("index").and_then(Value::as_u64).unwrap_or(i as u64),
                d,
            )
        })
        .collect();
    rows.sort_by_key(|r| r.0);
    if rows.len() != n {
        return Err(format!(
            "`data` holds {} results for {n} inputs",
            rows.len()
        ));
    }
    Ok(rows.into_iter().map(|r| r.1).collect())
}

fn usage(v: &Value) -> u64 {
    v.pointer("/usage/prompt_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// Parse a reply to `n` inputs; `steps[i]` is the step count of input `i` (for `/pooling`).
pub(crate) fn parse(api: RewardApi, bytes: &[u8], steps: &[usize]) -> Result<Parsed, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let n = steps.len();
    let mut out = Parsed::default();
    match api {
        RewardApi::VllmPooling => {
            for (i, d) in data_by_index(&v, n)?.into_iter().enumerate() {
                let pairs = d
                    .get("data")
                    .and_then(Value::as_array)
                    .ok_or_else(|| format!("data[{i}] has no `data` list"))?;
                if pairs.len() != steps[i] {
                    return Err(format!(
                        "data[{i}] holds {} scores for {} steps (hint: the model must pool at its step separator, one [p_neg, p_pos] pair per step, as vLLM does for Qwen2.5-Math-PRM)",
                        pairs.len(),
                        steps[i]
                    ));
                }
                let mut rs = Vec::with_capacity(pairs.len());
                for (k, p) in pairs.iter().enumerate() {
                    let p = p.as_array().filter(|p| p.len() == 2).ok_or_else(|| {
                        format!("data[{i}].data[{k}] is not a [p_neg, p_pos] pair: {p}")
                    })?;
                    rs.push(num(&p[1], &format!("data[{i}].data[{k}][1]"))?);
                }
                out.rewards.push(rs);
            }
            out.input_tokens = usage(&v);
        }
        RewardApi::VllmClassify => {
            for (i, d) in data_by_index(&v, n)?.into_iter().enumerate() {
                let probs = d
                    .get("probs")
                    .and_then(Value::as_array)
                    .filter(|p| !p.is_empty())
                    .ok_or_else(|| format!("data[{i}] has no `probs`"))?;
                let last = probs.len() - 1;
                out.rewards.push(vec![num(
                    &probs[last],
                    &format!("data[{i}].probs[{last}]"),
                )?]);
            }
            out.input_tokens = usage(&v);
        }
        RewardApi::VllmScore => {
            for (i, d) in data_by_index(&v, n)?.into_iter().enumerate() {
                let s = d
                    .get("score")
                    .ok_or_else(|| format!("data[{i}] has no `score`"))?;
                out.rewards.push(vec![num(s, &format!("data[{i}].score"))?]);
            }
            out.input_tokens = usage(&v);
        }
        RewardApi::SglangClassify => {
            let rows: Vec<&Value> = match &v {
                Value::Array(a) => a.iter().collect(),
                o @ Value::Object(_) => vec![o],
                _ => return Err("reply is neither a list nor an object".into()),
            };
            if rows.len() != n {
                return Err(format!("reply holds {} results for {n} inputs", rows.len()));
            }
            for (i, r) in rows.into_iter().enumerate() {
                let e = r
                    .pointer("/embedding/0")
                    .ok_or_else(|| format!("result {i} has no `embedding[0]`"))?;
                out.rewards
                    .push(vec![num(e, &format!("result {i} embedding[0]"))?]);
                out.input_tokens += r
                    .pointer("/meta_info/prompt_tokens")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
            }
        }
    }
    Ok(out)
}
