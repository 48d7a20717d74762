//! How a run is named wherever it is shown (tables, CSV, JSON, legends, compare): its
//! model when no other run shown has that model, else `model (run-dir; prompt=..,
//! mode=..)` listing only the settings that differ between the runs of that model.

use anesbench_core::manifest::RunInfo;

use crate::rundir::RunDir;

/// The settings that tell runs of one model apart, in the order they are listed.
const FIELDS: [&str; 7] = [
    "prompt",
    "mode",
    "solver",
    "temperature",
    "n",
    "dataset",
    "subset",
];

fn field(info: &RunInfo, key: &str) -> String {
    match key {
        "prompt" => info.prompt.clone(),
        "mode" => info.mode.clone(),
        "solver" => info.solver.clone(),
        "temperature" => info
            .temperature
            .map_or_else(|| "default".into(), crate::formats::trim_size),
        "n" => info.samples_per_item.to_string(),
        "dataset" => info.dataset_source.clone(),
        "subset" => {
            if info.subset.is_empty() {
                "none".into()
            } else {
                info.subset.join(", ")
            }
        }
        _ => unreachable!("unknown label field {key}"),
    }
}

/// The model a run is of: the manifest's model, else the directory name.
pub fn model_of(run: &RunDir) -> &str {
    if run.info.model.is_empty() {
        &run.name
    } else {
        &run.info.model
    }
}

/// One label per run, in order. Runs of a model no other run shares are named by the
/// model; the others by model, run directory name and the differing settings.
pub fn run_labels(runs: &[&RunDir]) -> Vec<String> {
    runs.iter()
        .map(|r| {
            let model = model_of(r);
            let same: Vec<&RunDir> = runs
                .iter()
                .copied()
                .filter(|o| model_of(o) == model)
                .collect();
            if same.len() < 2 {
                return model.to_string();
            }
            let differing: Vec<String> = FIELDS
                .iter()
                .filter(|k| {
                    let v = field(&r.info, k);
                    same.iter().any(|o| field(&o.info, k) != v)
                })
                .map(|k| format!("{k}={}", field(&r.info, k)))
                .collect();
            if differing.is_empty() {
                format!("{model} ({})", r.name)
            } else {
                format!("{model} ({}; {})", r.name, differing.join(", "))
            }
        })
        .collect()
}

/// A pair of runs is always named by run name and settings: two runs compared are most
/// often two settings of one model, and the reader must see which is which.
pub fn pair_labels(a: &RunDir, b: &RunDir) -> [String; 2] {
    let l = run_labels(&[a, b]);
    [l[0].clone(), l[1].clone()]
}

/// Every setting of a run on one line, for headers where there is room (compare).
pub fn settings_line(info: &RunInfo) -> String {
    FIELDS
        .iter()
        .map(|k| format!("{k}={}", field(info, k)))
        .collect::<Vec<_>>()
        .join(", ")
}
