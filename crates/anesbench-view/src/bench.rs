//! `anesbench view --bench`: a synthetic run of N samples (100,000 by default), the viewer
//! started in-process on it, and the time of the first page, filters and searches over
//! HTTP, with the process's memory; then the same questions answered by a naive viewer
//! (every line parsed into a `serde_json::Value` and kept), measured in the same process.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anesbench_core::{Lang, Level, SampleRecord};

use crate::client;
use crate::Viewer;

/// Target for every measured request.
pub const TARGET_SECS: f64 = 1.0;

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub samples: usize,
    /// Where to write the synthetic run (a temporary folder when `None`).
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Timing {
    pub what: String,
    pub secs: f64,
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct BenchReport {
    pub samples: usize,
    pub file_bytes: u64,
    pub viewer: Vec<Timing>,
    pub viewer_rss_kb: u64,
    /// VmRSS before the viewer started (after the synthetic run was written).
    pub viewer_rss_before_kb: u64,
    pub viewer_hwm_kb: u64,
    pub naive: Vec<Timing>,
    pub naive_rss_growth_kb: u64,
}

impl BenchReport {
    pub fn passed(&self) -> bool {
        self.viewer.iter().all(|t| t.secs < TARGET_SECS)
    }

    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "anesbench view --bench: {} samples, samples.jsonl {:.1} MiB; target < {TARGET_SECS:.0} s per request",
            self.samples,
            self.file_bytes as f64 / 1048576.0
        );
        let _ = writeln!(o, "\nviewer (offset index, over HTTP):");
        for t in &self.viewer {
            let _ = writeln!(
                o,
                "  {:<44} {:>8.3} s  {}{}",
                t.what,
                t.secs,
                if t.secs < TARGET_SECS { "ok  " } else { "MISS" },
                if t.detail.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", t.detail)
                }
            );
        }
        let _ = writeln!(
            o,
            "  memory: VmRSS {:.1} MiB -> {:.1} MiB after the requests above (index, dataset, caches), VmHWM {:.1} MiB",
            self.viewer_rss_before_kb as f64 / 1024.0,
            self.viewer_rss_kb as f64 / 1024.0,
            self.viewer_hwm_kb as f64 / 1024.0
        );
        let _ = writeln!(
            o,
            "\npeer: naive viewer (every line parsed into serde_json::Value and kept):"
        );
        for t in &self.naive {
            let _ = writeln!(
                o,
                "  {:<44} {:>8.3} s{}",
                t.what,
                t.secs,
                if t.detail.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", t.detail)
                }
            );
        }
        let _ = writeln!(
            o,
            "  memory: VmRSS grew by {:.1} MiB holding the parsed lines",
            self.naive_rss_growth_kb as f64 / 1024.0
        );
        let _ = writeln!(
            o,
            "\nresult: {}",
            if self.passed() {
                "all viewer requests under target"
            } else {
                "TARGET MISSED"
            }
        );
        o
    }
}

fn proc_status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

const EN_WORDS: &[&str] = &[
    "propofol",
    "induction",
    "hypotension",
    "airway",
    "ventilation",
    "opioid",
    "neuromuscular",
    "blockade",
    "epidural",
    "spinal",
    "bupivacaine",
    "ketamine",
    "etomidate",
    "midazolam",
    "sevoflurane",
    "desflurane",
    "malignant",
    "hyperthermia",
    "dantrolene",
    "intubation",
    "laryngoscope",
    "oxygenation",
    "preoxygenation",
    "cardiac",
    "output",
    "preload",
    "afterload",
    "the",
    "patient",
    "is",
    "with",
    "and",
    "because",
    "therefore",
    "option",
    "dose",
    "mg/kg",
];
const ZH_WORDS: &[&str] = &[
    "丙泊酚",
    "诱导",
    "低血压",
    "气道",
    "通气",
    "阿片类",
    "神经肌肉",
    "阻滞",
    "硬膜外",
    "腰麻",
    "布比卡因",
    "氯胺酮",
    "依托咪酯",
    "咪达唑仑",
    "七氟烷",
    "恶性高热",
    "丹曲林",
    "插管",
    "患者",
    "因此",
    "选项",
    "剂量",
    "心输出量",
    "前负荷",
    "后负荷",
];

/// A cheap deterministic generator (no dependency, same data every time).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() as usize) % xs.len()]
    }
}

fn words(r: &mut Lcg, lang: Lang, n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        match lang {
            Lang::En => {
                if i > 0 {
                    s.push(' ');
                }
                s.push_str(r.pick(EN_WORDS));
            }
            Lang::Zh => s.push_str(r.pick(ZH_WORDS)),
        }
        if i % 17 == 16 {
            s.push_str(if lang == Lang::En { ".\n" } else { "。\n" });
        }
    }
    s
}

/// Write a synthetic run (manifest, samples, and the dataset it names) with `n` samples,
/// one per item, half English and half Chinese. Returns the run directory.
pub fn write_synthetic_run(root: &Path, n: usize) -> anyhow::Result<PathBuf> {
    let data = root.join("dataset");
    let run = root.join("runs").join("bench-synthetic");
    std::fs::create_dir_all(&data)?;
    std::fs::create_dir_all(&run)?;
    let mut r = Lcg(42);
    // Dataset files are written as they go (JSONL), so the benchmark holds no copy.
    let mut en = std::io::BufWriter::new(std::fs::File::create(data.join("anesbench_en.jsonl"))?);
    let mut zh = std::io::BufWriter::new(std::fs::File::create(data.join("anesbench_zh.jsonl"))?);
    let mut out = std::io::BufWriter::new(std::fs::File::create(run.join("samples.jsonl"))?);
    for i in 0..n {
        let lang = if i % 2 == 0 { Lang::En } else { Lang::Zh };
        let level = Level::ALL[(i / 2) % 3];
        let nopt = if i % 7 == 0 { 5 } else { 4 };
        let letters: String = anesbench_core::item::LETTERS[..nopt].iter().collect();
        let gold = anesbench_core::item::letter((i / 2) % nopt);
        let id = format!("q{}", i / 2);
        let q = words(&mut r, lang, 25);
        let opts: Vec<String> = (0..nopt).map(|_| words(&mut r, lang, 4)).collect();
        let mut item = serde_json::json!({
            "id": id, "question": q, "choice_num": nopt, "target": gold.to_string(),
            "category": level.code(),
        });
        for (k, o) in opts.iter().enumerate() {
            item[anesbench_core::item::letter(k).to_string()] =
                serde_json::Value::String(o.clone());
        }
        let w = if lang == Lang::En { &mut en } else { &mut zh };
        serde_json::to_writer(&mut *w, &item)?;
        w.write_all(b"\n")?;
        let len = 120 + (r.next() as usize % 200);
        let mut body = words(&mut r, lang, len);
        if i % 100 < 2 {
            body.push_str(if lang == Lang::En {
                " sugammadex reverses rocuronium."
            } else {
                "舒更葡糖钠逆转罗库溴铵。"
            });
        }
        let roll = r.next() % 100;
        let (answer, rule, fin) = if roll < 4 {
            (None, "no_answer", Some("length"))
        } else if roll < 60 {
            (Some(gold), "answer_label", Some("stop"))
        } else {
            (
                Some(anesbench_core::item::letter((i / 2 + 1) % nopt)),
                "answer_label",
                Some("stop"),
            )
        };
        if let Some(a) = answer {
            body.push_str(&if lang == Lang::En {
                format!("\nAnswer: {a}")
            } else {
                format!("\n答案：{a}")
            });
        }
        let rec = SampleRecord {
            prompt_hash: "0".repeat(64),
            response: Some(body),
            reasoning: (i % 5 == 0).then(|| words(&mut r, lang, 60)),
            answer,
            rule: rule.into(),
            correct: answer == Some(gold),
            finish_reason: fin.map(String::from),
            prompt_tokens: Some(180),
            completion_tokens: Some(150 + (r.next() % 300) as u32),
            latency_ms: 1.0,
            endpoint: Some("http://127.0.0.1:1/v1".into()),
            error: (roll == 99).then(|| "HTTP 500 after 3 attempts".to_string()),
            ..SampleRecord::new(id, lang, level, 0, gold, letters)
        };
        serde_json::to_writer(&mut out, &rec)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    en.flush()?;
    zh.flush()?;
    let manifest = serde_json::json!({
        "run_schema": 1, "tool_version": env!("CARGO_PKG_VERSION"), "model": "synthetic-bench",
        "mode": "generate", "prompt": "cot/0-shot", "samples_per_item": 1, "solver": "greedy",
        "dataset_source": data.display().to_string(), "dataset_fingerprint": "synthetic",
        "selected_items": n, "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T01:00:00Z",
    });
    std::fs::write(
        run.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest)?,
    )?;
    Ok(run)
}

async fn timed(
    addr: std::net::SocketAddr,
    what: &str,
    path: &str,
    expect: &str,
) -> anyhow::Result<Timing> {
    let t = Instant::now();
    let r = client::get(addr, path).await?;
    let secs = t.elapsed().as_secs_f64();
    let body = r.text();
    anyhow::ensure!(r.status == 200, "{path}: HTTP {}", r.status);
    anyhow::ensure!(body.contains(expect), "{path}: reply lacks {expect:?}");
    let detail = body
        .split("<p class=\"count\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or("")
        .trim_end_matches('.')
        .to_string();
    let detail = if body.contains("id=\"q-partial\"") {
        format!("{detail}; responses and reasoning only, the dataset still loading")
    } else if body.contains("id=\"ds-loading\"") {
        format!("{detail}; without the question, the dataset still loading")
    } else {
        detail
    };
    Ok(Timing {
        what: what.into(),
        secs,
        detail: format!(
            "{detail}; VmRSS {:.0} MiB",
            proc_status_kb("VmRSS:") as f64 / 1024.0
        )
        .trim_start_matches("; ")
        .to_string(),
    })
}

/// Naive peer: parse every line into a Value and keep them all.
fn naive(path: &Path) -> anyhow::Result<(Vec<Timing>, u64)> {
    let before = proc_status_kb("VmRSS:");
    let t = Instant::now();
    let text = std::fs::read_to_string(path)?;
    let all: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    drop(text);
    let load = t.elapsed().as_secs_f64();
    let grown = proc_status_kb("VmRSS:").saturating_sub(before);
    let mut v = vec![Timing {
        what: "first page (read + parse every line)".into(),
        secs: load,
        detail: format!("{} records", all.len()),
    }];
    let t = Instant::now();
    let n = all
        .iter()
        .filter(|r| r["level"] == 3 && r["lang"] == "zh" && r["correct"] == false)
        .count();
    v.push(Timing {
        what: "filter level=system2 lang=zh outcome=wrong".into(),
        secs: t.elapsed().as_secs_f64(),
        detail: format!("{n} match"),
    });
    for q in ["sugammadex", "舒更葡糖"] {
        let t = Instant::now();
        let n = all
            .iter()
            .filter(|r| {
                ["response", "reasoning"]
                    .iter()
                    .any(|f| r[*f].as_str().is_some_and(|s| s.to_lowercase().contains(q)))
            })
            .count();
        v.push(Timing {
            what: format!("search {q:?} (response, reasoning)"),
            secs: t.elapsed().as_secs_f64(),
            detail: format!("{n} match"),
        });
    }
    drop(all);
    Ok((v, grown))
}

pub async fn run(opts: &BenchOptions) -> anyhow::Result<BenchReport> {
    let tmp;
    let root = match &opts.dir {
        Some(d) => d.clone(),
        None => {
            tmp = std::env::temp_dir().join(format!("anesbench-view-bench-{}", std::process::id()));
            tmp.clone()
        }
    };
    let run = write_synthetic_run(&root, opts.samples)?;
    crate::index_cache::set_dir(root.join("index-cache"));
    let samples = run.join("samples.jsonl");
    let file_bytes = std::fs::metadata(&samples)?.len();
    let rss_before = proc_status_kb("VmRSS:");
    let viewer = Arc::new(Viewer::new(&[root.join("runs")])?);
    let addr = crate::spawn(viewer.clone(), "127.0.0.1", 0).await?;
    let id = viewer.registry.runs()[0].id.clone();
    let mut t = Vec::new();
    t.push(
        timed(
            addr,
            "runs index, cold (indexes the whole file)",
            "/",
            "synthetic-bench",
        )
        .await?,
    );
    t.push(
        timed(
            addr,
            "run page: accuracy table + first 50 samples",
            &format!("/run/{id}"),
            "samples",
        )
        .await?,
    );
    t.push(
        timed(
            addr,
            "filter level=system2 lang=zh outcome=wrong",
            &format!("/run/{id}?level=system2&lang=zh&outcome=wrong"),
            "samples",
        )
        .await?,
    );
    t.push(
        timed(
            addr,
            "filter rule + gold + options (nopt=5)",
            &format!("/run/{id}?rule=answer_label&gold=B&nopt=5"),
            "samples",
        )
        .await?,
    );
    t.push(
        timed(
            addr,
            "search \"sugammadex\" (first, dataset loading)",
            &format!("/run/{id}?q=sugammadex"),
            "samples",
        )
        .await?,
    );
    t.push(
        timed(
            addr,
            "search \"舒更葡糖\" (Chinese)",
            &format!("/run/{id}?q=%E8%88%92%E6%9B%B4%E8%91%A1%E7%B3%96"),
            "samples",
        )
        .await?,
    );
    t.push(
        timed(
            addr,
            "search \"propofol\" + filter outcome=wrong",
            &format!("/run/{id}?q=Propofol&outcome=wrong"),
            "samples",
        )
        .await?,
    );
    t.push(
        timed(
            addr,
            "page 1000 of the unfiltered list",
            &format!("/run/{id}?page=1000"),
            "samples",
        )
        .await?,
    );
    let mid = opts.samples / 2;
    t.push(
        timed(
            addr,
            "sample page (middle of the file)",
            &format!("/run/{id}/sample/{mid}"),
            "Response",
        )
        .await?,
    );
    // Once the dataset is in (waited for here, untimed): a search that covers questions and
    // options too, and a sample page with its question and prompt.
    {
        let r = viewer.registry.runs()[0].clone();
        let waited = Instant::now();
        tokio::task::spawn_blocking(move || {
            let dir = r.dir.clone();
            r.fresh().dataset(&dir).is_some()
        })
        .await?
        .then_some(())
        .ok_or_else(|| anyhow::anyhow!("the synthetic dataset did not load"))?;
        let waited = waited.elapsed().as_secs_f64();
        let mut tm = timed(
            addr,
            "search \"rocuronium\" (dataset in: questions too)",
            &format!("/run/{id}?q=rocuronium"),
            "samples",
        )
        .await?;
        tm.detail = format!("after waiting {waited:.1} s for the dataset; {}", tm.detail);
        t.push(tm);
        t.push(
            timed(
                addr,
                "sample page (dataset in: question, prompt)",
                &format!("/run/{id}/sample/{}", mid + 1),
                "Response",
            )
            .await?,
        );
    }
    // A growing file: append 1,000 samples and time the page that tails them.
    {
        use std::io::BufRead;
        let head: Vec<String> = std::io::BufReader::new(std::fs::File::open(&samples)?)
            .lines()
            .take(1000)
            .collect::<Result<_, _>>()?;
        let mut f = std::fs::OpenOptions::new().append(true).open(&samples)?;
        let mut appended = 0;
        for line in &head {
            let mut v: serde_json::Value = serde_json::from_str(line)?;
            v["sample"] = serde_json::json!(1);
            serde_json::to_writer(&mut f, &v)?;
            f.write_all(b"\n")?;
            appended += 1;
        }
        let mut tm = timed(
            addr,
            "run page after 1,000 samples appended (tail)",
            &format!("/run/{id}"),
            "samples",
        )
        .await?;
        tm.detail = format!("{appended} appended; {}", tm.detail);
        t.push(tm);
    }
    // A restart: a second viewer over the same run, after the file settled, takes the
    // index the first one saved (the file grew above, so the first index is stale and
    // this viewer's first open rebuilds it once; the one after reads it back).
    for (k, what) in [
        (0, "restart: runs index (index stale, rebuilt)"),
        (1, "restart: runs index (persisted index read)"),
    ] {
        let v2 = Arc::new(Viewer::new(&[root.join("runs")])?);
        let a2 = crate::spawn(v2.clone(), "127.0.0.1", 0).await?;
        let mut tm = timed(a2, what, "/", "synthetic-bench").await?;
        let from = v2.registry.runs()[0].fresh().index.from_cache;
        tm.detail = format!(
            "{}; {}",
            match from {
                Some(true) => "from the cache",
                _ => "read from samples.jsonl",
            },
            tm.detail
        );
        t.push(tm);
        if k == 1 {
            let id2 = v2.registry.runs()[0].id.clone();
            t.push(
                timed(
                    a2,
                    "restart: first search \"sugammadex\"",
                    &format!("/run/{id2}?q=sugammadex"),
                    "samples",
                )
                .await?,
            );
        }
    }
    let rss = proc_status_kb("VmRSS:");
    let hwm = proc_status_kb("VmHWM:");
    let (naive, grown) = naive(&samples)?;
    if opts.dir.is_none() {
        let _ = std::fs::remove_dir_all(&root);
    }
    Ok(BenchReport {
        samples: opts.samples,
        file_bytes,
        viewer: t,
        viewer_rss_kb: rss,
        viewer_rss_before_kb: rss_before,
        viewer_hwm_kb: hwm,
        naive,
        naive_rss_growth_kb: grown,
    })
}
