//! `eval --shard auto` under a simulated scheduler: a Slurm job array of 3 and a Kubernetes
//! Indexed Job of 3, each merged back into the whole demo set; and the clear errors when no
//! scheduler (or a disagreeing count) is found. See docs/SCHEDULERS.md.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use anesbench_backend::fake::{FakeConfig, FakeServer};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_anesbench");

/// Every variable `--shard auto` reads (and `SLURM_JOB_ID`, which shapes its error), cleared
/// from each child so a test run that itself sits inside a Slurm job or a pod is not misled.
const SCHEDULER_VARS: &[&str] = &[
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "SLURM_ARRAY_TASK_STEP",
    "SLURM_JOB_ID",
    "JOB_COMPLETION_INDEX",
    "ANESBENCH_SHARD_COUNT",
];

/// `anesbench eval --dataset demo --shard SPEC` against the fake server into `out`, with
/// exactly the scheduler variables in `vars`.
fn eval_shard(server: &FakeServer, spec: &str, out: &Path, vars: &[(&str, String)]) -> Command {
    let mut c = Command::new(BIN);
    c.args([
        "eval",
        "--dataset",
        "demo",
        "--endpoint",
        &server.url(),
        "--model",
        "fake-model",
        "--shard",
        spec,
        "--out",
    ])
    .arg(out)
    .args(["--timeout", "5", "--progress", "none"]);
    for v in SCHEDULER_VARS {
        c.env_remove(v);
    }
    for (k, v) in vars {
        c.env(k, v);
    }
    c
}

async fn done(mut c: Command) -> Output {
    c.output().await.unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

fn lines(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join("samples.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn key(v: &serde_json::Value) -> String {
    format!(
        "{}:{}#{}",
        v["lang"].as_str().unwrap(),
        v["id"].as_str().unwrap(),
        v["sample"]
    )
}

/// `lang:id#0` for every demo item: what one sample per item over the whole set gives.
fn demo_keys() -> HashSet<String> {
    let items = anesbench_core::demo::items();
    assert!(items.len() > 100, "the demo set shrank to {}", items.len());
    items.iter().map(|i| format!("{}#0", i.key())).collect()
}

/// The concrete shard a run recorded in its manifest (`settings.shard`).
fn recorded_shard(run: &Path) -> String {
    let m = json(&run.join("manifest.json"));
    m["settings"]["shard"]
        .as_str()
        .unwrap_or_else(|| panic!("no settings.shard in {}: {m}", run.display()))
        .to_string()
}

/// Merge `shards` into `<dir>/all` and check the result is the whole demo set, each sample
/// exactly once, with no shard reported missing.
async fn merge_covers_the_demo_set(dir: &Path, shards: &[PathBuf]) {
    let merged = dir.join("all");
    let o = Command::new(BIN)
        .arg("merge")
        .args(shards)
        .arg("--out")
        .arg(&merged)
        .output()
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("were not given"),
        "{}",
        text(&o)
    );
    let want = demo_keys();
    let summary = json(&merged.join("summary.json"));
    assert_eq!(
        summary["samples"].as_u64(),
        Some(want.len() as u64),
        "{summary}"
    );
    assert_eq!(
        summary["overall"]["n"].as_u64(),
        Some(want.len() as u64),
        "{summary}"
    );
    let recs = lines(&merged);
    let mut seen = HashSet::new();
    for r in &recs {
        assert!(seen.insert(key(r)), "{} twice in the merged run", key(r));
    }
    assert_eq!(seen, want);
    // Shard slices are disjoint: their sample counts add up to the whole.
    let per_shard: usize = shards.iter().map(|s| lines(s).len()).sum();
    assert_eq!(per_shard, want.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slurm_array_of_three_with_shard_auto_merges_into_the_whole_demo_set() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeServer::start(FakeConfig::default()).await.unwrap();
    let mut shards = Vec::new();
    for id in 0..3u32 {
        // As `sbatch --array=0-2` sets them for task `id`.
        let out = dir.path().join(format!("shard-{id}"));
        let vars = [
            ("SLURM_JOB_ID", format!("{}", 4000 + id)),
            ("SLURM_ARRAY_TASK_ID", id.to_string()),
            ("SLURM_ARRAY_TASK_MIN", "0".to_string()),
            ("SLURM_ARRAY_TASK_MAX", "2".to_string()),
        ];
        let o = done(eval_shard(&server, "auto", &out, &vars)).await;
        assert_eq!(o.status.code(), Some(0), "task {id}: {}", text(&o));
        assert_eq!(recorded_shard(&out), format!("{}/3", id + 1));
        shards.push(out);
    }
    // A rerun of a finished task resumes: nothing is sent again.
    let before = server.stats().chat;
    let vars = [
        ("SLURM_ARRAY_TASK_ID", "1".to_string()),
        ("SLURM_ARRAY_TASK_MIN", "0".to_string()),
        ("SLURM_ARRAY_TASK_MAX", "2".to_string()),
        ("SLURM_ARRAY_TASK_COUNT", "3".to_string()),
    ];
    let o = done(eval_shard(&server, "auto/3", &shards[1], &vars)).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(server.stats().chat, before, "{}", text(&o));
    assert_eq!(recorded_shard(&shards[1]), "2/3");

    merge_covers_the_demo_set(dir.path(), &shards).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_indexed_job_of_three_with_shard_auto_merges_into_the_whole_demo_set() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeServer::start(FakeConfig::default()).await.unwrap();
    let mut shards = Vec::new();
    for index in 0..3u32 {
        // As an Indexed Job with `completions: 3` sets it for pod `index`; the count comes
        // from ANESBENCH_SHARD_COUNT, or (last pod) from `--shard auto/3`.
        let out = dir.path().join(format!("shard-{index}"));
        let mut vars = vec![("JOB_COMPLETION_INDEX", index.to_string())];
        let spec = if index < 2 {
            vars.push(("ANESBENCH_SHARD_COUNT", "3".to_string()));
            "auto"
        } else {
            "auto/3"
        };
        let o = done(eval_shard(&server, spec, &out, &vars)).await;
        assert_eq!(o.status.code(), Some(0), "pod {index}: {}", text(&o));
        assert_eq!(recorded_shard(&out), format!("{}/3", index + 1));
        shards.push(out);
    }
    merge_covers_the_demo_set(dir.path(), &shards).await;
}

#[tokio::test]
async fn shard_auto_with_no_scheduler_fails_naming_the_variables_it_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeServer::start(FakeConfig::default()).await.unwrap();
    let out = dir.path().join("run");
    let o = done(eval_shard(&server, "auto", &out, &[])).await;
    // A setting that cannot be resolved is bad input: exit 1, like other bad settings.
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    for name in [
        "SLURM_ARRAY_TASK_ID",
        "JOB_COMPLETION_INDEX",
        "ANESBENCH_SHARD_COUNT",
        "--shard i/n",
    ] {
        assert!(err.contains(name), "`{name}` missing: {}", text(&o));
    }
    assert_eq!(server.stats().chat, 0, "nothing may be sent");
    assert!(!out.join("samples.jsonl").exists());
    assert!(!out.join("manifest.json").exists());
}

#[tokio::test]
async fn shard_auto_count_that_disagrees_with_the_slurm_array_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeServer::start(FakeConfig::default()).await.unwrap();
    let out = dir.path().join("run");
    // `sbatch --array=3` resubmitted alone: the array now has one task, not four.
    let vars = [
        ("SLURM_ARRAY_TASK_ID", "3".to_string()),
        ("SLURM_ARRAY_TASK_MIN", "3".to_string()),
        ("SLURM_ARRAY_TASK_MAX", "3".to_string()),
        ("SLURM_ARRAY_TASK_COUNT", "1".to_string()),
    ];
    let o = done(eval_shard(&server, "auto/4", &out, &vars)).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("1 tasks") && err.contains("auto/4"),
        "{}",
        text(&o)
    );
    assert_eq!(server.stats().chat, 0);
}

#[tokio::test]
async fn shard_text_that_is_neither_i_n_nor_auto_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeServer::start(FakeConfig::default()).await.unwrap();
    let o = done(eval_shard(
        &server,
        "automatic",
        &dir.path().join("run"),
        &[],
    ))
    .await;
    // Rejected by the argument parser (clap exits 2), with the hint naming both forms.
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("`i/n`") && err.contains("`auto/N`"),
        "{}",
        text(&o)
    );
}
