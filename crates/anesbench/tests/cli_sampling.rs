//! `anesbench eval --strategy sc:N` over HTTP with the real binary: kill -9 in the middle
//! of items, then resume; every candidate exactly once and every decision as in an
//! uninterrupted run, whether the server keeps `n` or ignores it.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use anesbench_backend::fake::{FakeConfig, FakeServer, Fault, FaultRule, Script, Trigger};
use anesbench_core::vote;
use anesbench_core::SampleRecord;
use tokio::process::Command;

mod common;
use common::{write_synthetic, BIN};
const N: usize = 5;
const PER_LANG: usize = 30;

async fn server(n_choices: bool) -> FakeServer {
    FakeServer::start(FakeConfig {
        n_choices,
        // A tie between B and C broken by likelihood (C), so the decision depends on
        // every candidate's score being kept across the kill.
        script: Some(Script::letters(
            7,
            &[
                (Some('B'), -1.0),
                (Some('C'), -0.25),
                (None, -0.125),
                (Some('B'), -0.75),
                (Some('C'), -0.5),
            ],
        )),
        faults: vec![FaultRule::new(
            Trigger::Always,
            Fault::Slow(Duration::from_millis(30)),
        )],
        ..FakeConfig::default()
    })
    .await
    .unwrap()
}

fn eval(server: &FakeServer, dataset: &Path, out: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.args(["eval", "--dataset"]).arg(dataset);
    c.args(["--endpoint", &server.url(), "--model", "fake-model"]);
    c.args(["--strategy", "sc:5", "--temperature", "0.8", "--seed", "7"]);
    c.args([
        "--concurrency",
        "3",
        "--timeout",
        "10",
        "--progress",
        "plain",
    ]);
    c.arg("--out").arg(out);
    c
}

fn records(out: &Path) -> Vec<SampleRecord> {
    let text = std::fs::read_to_string(out.join("samples.jsonl")).unwrap_or_default();
    // A kill can leave a torn last line: only complete lines count.
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    complete
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn decisions(recs: &[SampleRecord]) -> BTreeMap<String, (Option<char>, &'static str)> {
    let mut by_item: BTreeMap<String, Vec<&SampleRecord>> = BTreeMap::new();
    for r in recs {
        by_item
            .entry(format!("{}:{}", r.lang, r.id))
            .or_default()
            .push(r);
    }
    by_item
        .into_iter()
        .map(|(k, rs)| {
            let v = vote::majority(rs);
            (k, (v.answer, v.rule))
        })
        .collect()
}

async fn ok(mut c: Command) -> String {
    let o = c.output().await.unwrap();
    let text = format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(0), "{text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_item_then_resume_runs_every_candidate_once_and_keeps_every_decision() {
    for n_choices in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let ds = write_synthetic(dir.path(), PER_LANG);
        let srv = server(n_choices).await;
        let reference = dir.path().join("reference");
        let said = ok(eval(&srv, &ds, &reference)).await;
        let how = if n_choices {
            "keeps `n`; one request per item"
        } else {
            "ignores `n`; one request per sample"
        };
        assert!(said.contains(how), "{said}");
        let want = decisions(&records(&reference));
        assert_eq!(want.len(), 2 * PER_LANG);
        assert!(want
            .values()
            .all(|d| *d == (Some('C'), vote::RULE_TIE_LIKELIHOOD)));

        // Kill as soon as the file holds part of an item (a line count that is not a
        // multiple of N); a kill that lands on a boundary is tried again.
        let mut tries = 0;
        let out = loop {
            tries += 1;
            let out = dir.path().join(format!("killed{tries}"));
            let mut child = eval(&srv, &ds, &out)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let t0 = Instant::now();
            // With `n` kept the lines come N at a time: kill at any count.
            let finished = loop {
                let n = records(&out).len();
                if n >= 13 && (n_choices || !n.is_multiple_of(N)) {
                    break false;
                }
                if child.try_wait().unwrap().is_some() {
                    break true;
                }
                assert!(
                    t0.elapsed() < Duration::from_secs(120),
                    "the run never got going"
                );
                tokio::time::sleep(Duration::from_millis(2)).await;
            };
            if finished {
                // The run ended before a kill could land; try again.
                assert!(tries < 10, "every run finished before the kill");
                continue;
            }
            child.start_kill().unwrap(); // SIGKILL
            child.wait().await.unwrap();
            let before = records(&out);
            if before.len() >= 2 * PER_LANG * N {
                assert!(tries < 10, "every kill landed too late");
                continue;
            }
            let mut per_item: BTreeMap<String, usize> = BTreeMap::new();
            for r in &before {
                *per_item.entry(format!("{}:{}", r.lang, r.id)).or_default() += 1;
            }
            if per_item.values().any(|&c| c < N) || (n_choices && tries >= 3) {
                break out;
            }
            assert!(tries < 10, "no kill landed mid-item: {per_item:?}");
        };
        ok(eval(&srv, &ds, &out)).await;
        let after = records(&out);
        let mut keys = HashSet::new();
        for r in &after {
            assert!(r.error.is_none(), "{r:?}");
            assert!(keys.insert(r.key()), "{:?} twice", r.key());
        }
        assert_eq!(keys.len(), 2 * PER_LANG * N, "n kept: {n_choices}");
        assert_eq!(decisions(&after), want, "n kept: {n_choices}");
        if n_choices {
            assert!(after.iter().any(|r| r.batch == Some(N as u32)));
        } else {
            assert!(after.iter().all(|r| r.batch.is_none()));
        }
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(m["backend"]["details"]["n_per_request"]["setting"], "auto");
        assert!(m["finished_at"].is_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_per_request_off_sends_one_request_per_candidate() {
    let dir = tempfile::tempdir().unwrap();
    let ds = write_synthetic(dir.path(), PER_LANG);
    let srv = server(true).await;
    let out = dir.path().join("off");
    let mut c = eval(&srv, &ds, &out);
    c.args(["--n-per-request", "off", "--limit", "4"]);
    ok(c).await;
    assert_eq!(srv.generation_requests(), (4 * N) as u64, "no probe, no n");
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["settings"]["n_per_request"], "off");
    let mut c = eval(&srv, &ds, &dir.path().join("bad"));
    c.args(["--n-per-request", "sometimes"]);
    let o = c.output().await.unwrap();
    assert_ne!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("auto, on or off"));
}
