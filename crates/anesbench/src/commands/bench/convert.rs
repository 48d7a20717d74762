//! `anesbench bench convert`: corpus conversion and decontamination throughput beside the
//! study's pandas converter, in the same run on the same synthetic corpus.
//!
//! Both converters run as child processes of this one and are measured the same way:
//! wall time and peak RSS from `wait4`. MB/s is text megabytes (UTF-8) over wall time.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anesbench_core::item::Lang;
use anesbench_data::rusage::{run_measured, Measured};
use anyhow::{bail, Context};

use super::Verdict;

/// Our conversion is at least this many times faster than the pandas reference.
const TARGET_SPEED: f64 = 10.0;
/// The reference's peak RSS is at least this many times ours.
const TARGET_MEM: f64 = 10.0;

#[derive(clap::Args)]
pub struct BenchConvertArgs {
    /// Megabytes of text to generate.
    #[arg(long, default_value_t = 1000)]
    size_mb: u64,
    /// Parquet files to spread it over.
    #[arg(long, default_value_t = 8)]
    files: usize,
    /// Working directory (corpus and outputs; outputs are removed afterwards).
    #[arg(long, default_value = "target/bench-convert")]
    dir: PathBuf,
    /// Python interpreter for the reference converter.
    #[arg(long, default_value = "python3")]
    python: String,
    /// The reference converter.
    #[arg(long, default_value = "scripts/convert_reference.py")]
    script: PathBuf,
    /// Measure only our converter.
    #[arg(long)]
    no_python: bool,
    /// Keep the converted outputs.
    #[arg(long)]
    keep: bool,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn line(name: &str, rows: u64, text_bytes: u64, m: &Measured) -> String {
    let s = m.wall.as_secs_f64();
    format!(
        "{name:<22} {:>9.2} s {:>12.0} rows/s {:>9.1} MB/s {:>9.1} MB peak RSS",
        s,
        rows as f64 / s,
        mb(text_bytes) / s,
        mb(m.peak_rss)
    )
}

fn check(name: &str, m: &Measured) -> anyhow::Result<()> {
    if !m.success {
        bail!("{name} failed ({}):\n{}", m.exit, m.stderr.trim());
    }
    Ok(())
}

pub fn run(a: BenchConvertArgs) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("locating this binary")?;
    let corpus_dir = a.dir.join(format!("corpus-{}mb", a.size_mb));
    let ours_dir = a.dir.join("ours");
    let ref_out = a.dir.join("reference.json");
    let clean_dir = a.dir.join("clean");
    let _ = std::fs::remove_dir_all(&corpus_dir);
    // Plant a few demo questions so the scan has something to find (only questions long
    // enough for 13-grams can be found).
    let plant: Vec<String> = anesbench_core::demo::items_for(Lang::En)
        .iter()
        .filter(|i| anesbench_data::ngram::token_count(&i.question) >= 13)
        .take(3)
        .map(|i| i.question.clone())
        .collect();
    eprintln!(
        "generating ~{} MB of text in {} Parquet files under {} ...",
        a.size_mb,
        a.files,
        corpus_dir.display()
    );
    let t = std::time::Instant::now();
    let corpus = anesbench_data::synth::generate(
        &corpus_dir,
        a.size_mb * 1_000_000,
        a.files,
        a.seed,
        &plant,
    )?;
    let on_disk: u64 = corpus
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    eprintln!(
        "generated {} rows, {:.1} MB of text ({:.1} MB of Parquet) in {:.1} s",
        corpus.rows,
        mb(corpus.text_bytes),
        mb(on_disk),
        t.elapsed().as_secs_f64()
    );

    let mut cmd = Command::new(&exe);
    cmd.args([
        "convert", "corpus", "--split", "all", "--format", "json", "--quiet", "--input",
    ])
    .arg(&corpus_dir)
    .arg("--out")
    .arg(&ours_dir);
    eprintln!("running our converter ...");
    let ours = run_measured(cmd)?;
    check("anesbench convert", &ours)?;
    let report: serde_json::Value =
        serde_json::from_str(&ours.stdout).context("reading the converter's JSON report")?;
    let ours_written = report["outputs"][0]["written"].as_u64().unwrap_or(0);
    let ours_file = PathBuf::from(report["outputs"][0]["file"].as_str().unwrap_or_default());

    let reference = if a.no_python {
        None
    } else {
        eprintln!("running the pandas reference ...");
        let mut cmd = Command::new(&a.python);
        cmd.arg(&a.script)
            .arg("--input")
            .arg(&corpus_dir)
            .arg("--out")
            .arg(&ref_out);
        let m = run_measured(cmd)?;
        check("pandas reference", &m)?;
        let r: serde_json::Value =
            serde_json::from_str(m.stdout.trim()).context("reading the reference's JSON line")?;
        Some((m, r["rows_written"].as_u64().unwrap_or(0)))
    };

    eprintln!("running the decontamination scan ...");
    let mut cmd = Command::new(&exe);
    cmd.args(["decontam", "--bench", "demo", "--quiet", "--train"])
        .arg(&corpus_dir)
        .arg("--write-clean")
        .arg(&clean_dir);
    let scan = run_measured(cmd)?;
    check("anesbench decontam", &scan)?;
    let sr: serde_json::Value =
        serde_json::from_str(&scan.stdout).context("reading the decontam report")?;
    let scan_secs = sr["seconds"].as_f64().unwrap_or(f64::NAN);
    let flagged = sr["flagged"].as_array().map_or(0, |v| v.len());

    println!(
        "## bench convert: {} rows, {:.1} MB of text in {} Parquet files ({:.1} MB on disk)",
        corpus.rows,
        mb(corpus.text_bytes),
        a.files,
        mb(on_disk)
    );
    println!(
        "{}",
        line("anesbench convert", corpus.rows, corpus.text_bytes, &ours)
    );
    if let Some((m, rows)) = &reference {
        println!(
            "{}",
            line("pandas reference", corpus.rows, corpus.text_bytes, m)
        );
        if *rows != ours_written {
            println!("WARNING: row counts differ: ours {ours_written}, reference {rows}");
        }
        let speed = m.wall.as_secs_f64() / ours.wall.as_secs_f64();
        let mem = m.peak_rss as f64 / ours.peak_rss as f64;
        println!("ratios: throughput {speed:.1}x the reference, peak memory 1/{mem:.1} of the reference (targets: >= {TARGET_SPEED:.0}x, >= {TARGET_MEM:.0})");
    }
    let verdict = match &reference {
        Some((m, rows)) => {
            let speed = m.wall.as_secs_f64() / ours.wall.as_secs_f64();
            let mem = m.peak_rss as f64 / ours.peak_rss as f64;
            Verdict::from_met(speed >= TARGET_SPEED && mem >= TARGET_MEM && *rows == ours_written)
        }
        None => Verdict::NotChecked("--no-python".into()),
    };
    println!(
        "decontam scan          {:>9.2} s {:>12.0} rows/s {:>9.1} MB/s {:>9.1} MB peak RSS (wall {:.2} s incl. --write-clean); flagged {flagged} of {} planted demo questions",
        scan_secs,
        corpus.rows as f64 / scan_secs,
        mb(corpus.text_bytes) / scan_secs,
        mb(scan.peak_rss),
        scan.wall.as_secs_f64(),
        plant.len()
    );
    println!(
        "rows written: ours {ours_written} ({})",
        ours_file.display()
    );
    if !a.keep {
        let _ = std::fs::remove_dir_all(&ours_dir);
        let _ = std::fs::remove_dir_all(&clean_dir);
        let _ = std::fs::remove_file(&ref_out);
    }
    verdict.print(&format!(
        "conversion >= {TARGET_SPEED:.0}x the pandas reference's throughput and <= 1/{TARGET_MEM:.0} of its peak memory, same rows written"
    ));
    Ok(verdict.exit_code(a.no_python))
}
