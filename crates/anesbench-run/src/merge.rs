//! `merge`: combine shard runs (`--shard i/n`) into one run directory, after checking that
//! they share every result-affecting setting and the dataset, are complete, and do not
//! overlap.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anesbench_core::Summary;

use crate::error::RunError;
use crate::rundir::{read_samples, write_samples_atomic, Manifest, RunDir, MANIFEST};

#[derive(Debug, Clone)]
pub struct MergeOutcome {
    pub dir: PathBuf,
    pub summary: Summary,
    pub samples: usize,
    /// Shard indices of `1..=n` that were not given (the merged run covers less).
    pub missing_shards: Vec<u32>,
}

pub fn merge(runs: &[PathBuf], out: &Path) -> Result<MergeOutcome, RunError> {
    if runs.len() < 2 {
        return Err(RunError::Merge("give at least two run directories".into()));
    }
    let mut manifests = Vec::new();
    for r in runs {
        manifests.push(Manifest::read(&r.join(MANIFEST))?);
    }
    let base = &manifests[0];
    let mut seen_shards = BTreeSet::new();
    for (dir, m) in runs.iter().zip(&manifests) {
        let changes = base.settings.result_changes(&m.settings);
        if !changes.is_empty() {
            let list: Vec<String> = changes
                .iter()
                .map(|(f, a, b)| format!("  {f}: {a} in {} vs {b}", runs[0].display()))
                .collect();
            return Err(RunError::Merge(format!(
                "{} was run with different settings:\n{}",
                dir.display(),
                list.join("\n")
            )));
        }
        if m.info.dataset_fingerprint != base.info.dataset_fingerprint {
            return Err(RunError::Merge(format!(
                "{} used a different dataset (fingerprint {} vs {} in {})",
                dir.display(),
                m.info.dataset_fingerprint,
                base.info.dataset_fingerprint,
                runs[0].display()
            )));
        }
        match (m.settings.shard, base.settings.shard) {
            (Some(s), Some(b)) if s.count == b.count => {
                if !seen_shards.insert(s.index) {
                    return Err(RunError::Merge(format!(
                        "shard {s} is given twice (again in {})",
                        dir.display()
                    )));
                }
            }
            (s, b) => {
                return Err(RunError::Merge(format!(
                    "{} has shard {} but {} has shard {}: merge takes shards i/n of one n",
                    dir.display(),
                    s.map_or("none".into(), |s| s.to_string()),
                    runs[0].display(),
                    b.map_or("none".into(), |s| s.to_string())
                )))
            }
        }
    }

    let mut all = Vec::new();
    let mut owner: HashMap<_, usize> = HashMap::new();
    for (i, (dir, m)) in runs.iter().zip(&manifests).enumerate() {
        let loaded = read_samples(&dir.join(crate::rundir::SAMPLES))?;
        let want = m.info.expected_samples();
        // Complete means every selected sample finished without error: an errored sample
        // is a line on disk but not a result.
        let done = loaded.records.iter().filter(|r| r.error.is_none()).count();
        let errored = loaded.records.len() - done;
        if loaded.torn_bytes > 0 || done < want || m.info.finished_at.is_none() {
            let errs = if errored > 0 {
                format!(", {errored} errored")
            } else {
                String::new()
            };
            return Err(RunError::Merge(format!(
                "{} is incomplete ({done} of {want} samples done{errs}): resume it with the same command first",
                dir.display(),
            )));
        }
        for r in loaded.records {
            if let Some(&j) = owner.get(&r.key()) {
                return Err(RunError::Merge(format!(
                    "item {}:{} sample {} is in both {} and {}",
                    r.lang,
                    r.id,
                    r.sample,
                    runs[j].display(),
                    dir.display()
                )));
            }
            owner.insert(r.key(), i);
            all.push(r);
        }
    }

    let rd = RunDir::open(out)?;
    if rd.read_manifest()?.is_some() || rd.samples_path().exists() {
        return Err(RunError::Merge(format!(
            "output {} already holds a run; choose a new `--out`",
            out.display()
        )));
    }
    let count = base.settings.shard.map_or(0, |s| s.count);
    let missing_shards: Vec<u32> = (1..=count).filter(|i| !seen_shards.contains(i)).collect();
    let mut merged = base.clone();
    merged.settings.shard = None;
    merged.info.selected_items = manifests.iter().map(|m| m.info.selected_items).sum();
    if base.info.planned_samples.is_some() {
        merged.info.planned_samples =
            Some(manifests.iter().map(|m| m.info.expected_samples()).sum());
    }
    merged.info.subset.retain(|s| !s.starts_with("shard "));
    if !missing_shards.is_empty() {
        merged.info.subset.push(format!(
            "shards {} of {count} missing",
            missing_shards
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
    merged.info.started_at = manifests
        .iter()
        .map(|m| m.info.started_at.clone())
        .min()
        .unwrap_or_default();
    merged.info.finished_at = manifests
        .iter()
        .filter_map(|m| m.info.finished_at.clone())
        .max();
    write_samples_atomic(&rd.samples_path(), &all)?;
    let summary = Summary::aggregate(
        &all,
        anesbench_core::vote::Aggregation::for_solver(&base.info.solver),
        base.info.summary_per_item(),
    );
    rd.write_summary(&summary)?;
    rd.write_manifest(&merged)?;
    Ok(MergeOutcome {
        dir: out.to_path_buf(),
        summary,
        samples: all.len(),
        missing_shards,
    })
}
