//! `rescore`: re-extract answers from the responses stored in a run and rewrite
//! `samples.jsonl` (atomically) and `summary.json`. No model is called.
//!
//! Extraction can match option text as well as letters, so the option texts are taken
//! from the run's dataset when it still loads with the same fingerprint; otherwise only
//! the letters stored in each record are known, and a warning says so.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anesbench_core::load::load;
use anesbench_core::permute;
use anesbench_core::vote::Aggregation;
use anesbench_core::{Lang, Summary};

use crate::error::RunError;
use crate::rundir::{Manifest, RunDir, MANIFEST};
use crate::score::{loglik_answer, score_text, RULE_ERROR};

#[derive(Debug, Clone)]
pub struct RescoreOutcome {
    pub dir: PathBuf,
    pub summary: Summary,
    pub samples: usize,
    /// Records whose answer or rule changed.
    pub changed: usize,
    pub warnings: Vec<String>,
}

/// Re-extract and re-aggregate. `aggregate` overrides the run's own per-item rule (for a
/// run of several samples per item: majority vote or best likelihood).
pub fn rescore(dir: &Path) -> Result<RescoreOutcome, RunError> {
    rescore_with(dir, None)
}

pub fn rescore_with(
    dir: &Path,
    aggregate: Option<Aggregation>,
) -> Result<RescoreOutcome, RunError> {
    let manifest = Manifest::read(&dir.join(MANIFEST))?;
    let rd = RunDir::open(dir)?;
    let mut warnings = Vec::new();
    let loaded = rd.load_samples()?;
    if loaded.torn_bytes > 0 {
        warnings.push(format!(
            "cut a torn last line ({} bytes) from {}",
            loaded.torn_bytes,
            rd.samples_path().display()
        ));
    }
    let options: HashMap<(Lang, String), Vec<String>> = match load(
        &manifest.settings.dataset,
        &manifest.settings.load_options(),
    ) {
        Ok(ds) if ds.fingerprint == manifest.info.dataset_fingerprint => ds
            .items
            .into_iter()
            .map(|it| ((it.lang, it.id), it.options))
            .collect(),
        Ok(_) => {
            warnings.push(format!(
                "dataset `{}` has changed since the run; matching letters only, not option text",
                manifest.settings.dataset
            ));
            HashMap::new()
        }
        Err(e) => {
            warnings.push(format!(
                "dataset `{}` did not load ({e}); matching letters only, not option text",
                manifest.settings.dataset
            ));
            HashMap::new()
        }
    };
    let mut records = loaded.records;
    let mut changed = 0;
    for r in &mut records {
        if r.error.is_some() {
            r.rule = RULE_ERROR.into();
            r.answer = None;
            r.correct = false;
            continue;
        }
        let (answer, rule) = match &r.option_logprobs {
            Some(lp) => {
                // Letters in option order (the map is keyed by letter, A first).
                let values: Vec<f64> = lp.values().copied().collect();
                let (a, rule) = loglik_answer(&values);
                (a, rule.to_string())
            }
            None => {
                let opts = options
                    .get(&(r.lang, r.id.clone()))
                    .cloned()
                    .unwrap_or_else(|| r.letters.chars().map(|_| String::new()).collect());
                // A permuted candidate saw its options in another order: read the reply
                // against that order, then map the letter back.
                let opts = match &r.perm {
                    Some(p) => permute::displayed_options(&opts, p),
                    None => opts,
                };
                // Stored reasoning may include a `<think>` block split from the response;
                // extraction reads the reasoning only when the response says nothing.
                let (_, ex) = score_text(
                    r.response.as_deref(),
                    r.reasoning.as_deref(),
                    &opts,
                    r.finish_reason.as_deref(),
                );
                let answer = match &r.perm {
                    Some(p) => ex.answer.and_then(|a| permute::to_original(p, a)),
                    None => ex.answer,
                };
                (answer, ex.rule)
            }
        };
        if let Some(p) = &r.perm {
            r.position = answer.and_then(|a| permute::to_displayed(p, a));
        }
        if answer != r.answer || rule != r.rule {
            changed += 1;
        }
        r.answer = answer;
        r.rule = rule;
        r.correct = answer == Some(r.gold);
    }
    rd.rewrite_samples(&records)?;
    let agg = aggregate.unwrap_or_else(|| Aggregation::for_solver(&manifest.info.solver));
    let summary = Summary::aggregate(&records, agg, manifest.info.summary_per_item());
    rd.write_summary(&summary)?;
    Ok(RescoreOutcome {
        dir: dir.to_path_buf(),
        summary,
        samples: records.len(),
        changed,
        warnings,
    })
}
