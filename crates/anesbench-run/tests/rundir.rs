//! Run-directory contracts: settings changes refused, the lock, shard + merge equal to
//! the unsharded run, rescore, and the manifest as a config.

mod common;

use anesbench_core::manifest::RunInfo;
use anesbench_run::rundir::{Manifest, RunDir};
use anesbench_run::{execute, RunError, Settings, Shard};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_settings_are_refused_naming_each_field_but_concurrency_may_change() {
    let ds = load_ds("demo");
    let server = fake(&ds, Vec::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut s = settings(&server, "demo");
    s.limit = Some(5);
    execute(request(&s, &ds, &out)).await.unwrap();

    let mut changed = s.clone();
    changed.temperature = Some(0.7);
    changed.max_tokens = Some(64);
    let e = execute(request(&changed, &ds, &out)).await.unwrap_err();
    assert!(matches!(e, RunError::SettingsChanged { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("temperature") && msg.contains("max_tokens") && msg.contains("0.7"),
        "{msg}"
    );
    assert!(!msg.contains("concurrency"), "{msg}");

    let mut faster = s.clone();
    faster.concurrency = 2;
    faster.timeout_secs = 30.0;
    let again = execute(request(&faster, &ds, &out)).await.unwrap();
    assert_eq!((again.ran, again.skipped), (0, 5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_directory_is_refused() {
    let ds = load_ds("demo");
    let server = fake(&ds, Vec::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let held = RunDir::open(&out).unwrap();
    let e = execute(request(&settings(&server, "demo"), &ds, &out))
        .await
        .unwrap_err();
    assert!(matches!(e, RunError::Locked { .. }), "{e}");
    assert_eq!(
        server.stats().chat,
        0,
        "no request before the lock is taken"
    );
    drop(held);
    execute(request(&settings(&server, "demo"), &ds, &out))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_merged_equal_the_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let src = write_synthetic(dir.path(), 150);
    let src = src.to_str().unwrap();
    let ds = load_ds(src);
    // A chance-level fake, so answers differ per item and a mix-up would show.
    let server = anesbench_backend::fake::FakeServer::start(Default::default())
        .await
        .unwrap();
    let base = settings(&server, src);
    let whole = execute(request(&base, &ds, &dir.path().join("whole")))
        .await
        .unwrap();
    let mut shard_dirs = Vec::new();
    for i in 1..=3 {
        let mut s = base.clone();
        s.shard = Some(Shard { index: i, count: 3 });
        let d = dir.path().join(format!("shard{i}"));
        let o = execute(request(&s, &ds, &d)).await.unwrap();
        assert!(o.ran > 50 && o.ran < 150, "shard {i} has {} items", o.ran);
        shard_dirs.push(d);
    }
    // Overlap and duplicates are refused.
    let dup = vec![shard_dirs[0].clone(), shard_dirs[0].clone()];
    let e = anesbench_run::merge::merge(&dup, &dir.path().join("dup"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("twice"), "{e}");

    let merged = anesbench_run::merge::merge(&shard_dirs, &dir.path().join("merged")).unwrap();
    assert!(merged.missing_shards.is_empty());
    assert_eq!(merged.samples, 300);
    assert_eq!(
        merged.summary.overall.correct,
        whole.summary.overall.correct
    );
    assert_eq!(
        merged.summary.by_lang_level.keys().collect::<Vec<_>>(),
        whole.summary.by_lang_level.keys().collect::<Vec<_>>()
    );
    for (k, c) in &whole.summary.by_lang_level {
        assert_eq!(
            (c.n, c.correct),
            (
                merged.summary.by_lang_level[k].n,
                merged.summary.by_lang_level[k].correct
            ),
            "{k}"
        );
    }
    let key =
        |r: &anesbench_core::SampleRecord| (r.lang, r.id.clone(), r.answer, r.prompt_hash.clone());
    let mut a: Vec<_> = raw_lines(&dir.path().join("whole"))
        .iter()
        .map(key)
        .collect();
    let mut b: Vec<_> = raw_lines(&dir.path().join("merged"))
        .iter()
        .map(key)
        .collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    let m = Manifest::read(&dir.path().join("merged/manifest.json")).unwrap();
    assert_eq!(m.settings.shard, None);
    assert_eq!(m.info.selected_items, 300);

    // Shards of different runs do not merge.
    let mut other = base.clone();
    other.temperature = Some(1.0);
    other.shard = Some(Shard { index: 3, count: 3 });
    let d = dir.path().join("other3");
    execute(request(&other, &ds, &d)).await.unwrap();
    let e = anesbench_run::merge::merge(
        &[shard_dirs[0].clone(), shard_dirs[1].clone(), d],
        &dir.path().join("bad"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("temperature"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifest_has_runinfo_on_top_and_is_a_config() {
    let ds = load_ds("demo");
    let server = fake(&ds, Vec::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut s = settings(&server, "demo");
    s.limit = Some(3);
    s.api_key_env = Some("SOME_VAR".into());
    s.out = Some(out.clone());
    execute(request(&s, &ds, &out)).await.unwrap();
    let text = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    let info = RunInfo::from_manifest_json(&text).unwrap();
    assert_eq!(info.model, "fake-model");
    assert_eq!(info.dataset_fingerprint, ds.fingerprint);
    assert_eq!(info.mode, "generate");
    assert_eq!(info.prompt, "cot/0-shot");
    assert!(info.finished_at.is_some() && !info.started_at.is_empty());
    let back = Settings::from_file(&out.join("manifest.json")).unwrap();
    assert_eq!(back.out, None, "a repeated run gets its own directory");
    assert_eq!(
        Settings {
            out: Some(out.clone()),
            ..back
        },
        s
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescore_recomputes_answers_without_calling_the_model() {
    let ds = load_ds("demo");
    let server = fake(&ds, Vec::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let s = settings(&server, "demo");
    let run = execute(request(&s, &ds, &out)).await.unwrap();
    let calls = server.stats().chat;
    // Damage the stored answers; rescore must restore them from the responses.
    let mut recs = raw_lines(&out);
    for r in &mut recs {
        r.answer = None;
        r.correct = false;
        r.rule = "stale".into();
    }
    anesbench_run::rundir::write_samples_atomic(&out.join("samples.jsonl"), &recs).unwrap();
    let re = anesbench_run::rescore::rescore(&out).unwrap();
    assert!(re.warnings.is_empty(), "{:?}", re.warnings);
    assert_eq!(re.changed, recs.len());
    assert_eq!(re.summary.overall.correct, run.summary.overall.correct);
    assert_eq!(server.stats().chat, calls);
    assert!(raw_lines(&out).iter().all(|r| r.rule != "stale"));
}
