//! `anesbench eval`: resolve settings, load the benchmark, build the backend, run (or
//! resume) into the run directory, print the summary table.

mod args;
mod backend;

use std::path::PathBuf;
use std::process::ExitCode;

use anesbench_core::load::load;
use anesbench_run::{execute, ProgressMode, RunRequest, Settings};
use anyhow::Context;

pub use args::EvalArgs;

use crate::exit;

pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    if args.limit == Some(0) {
        eprintln!("error: --limit 0 selects no items (hint: give N >= 1, or leave --limit out for all items)");
        return Ok(ExitCode::from(exit::USAGE));
    }
    let resolved = args::resolve(&args)?;
    for w in &resolved.warnings {
        eprintln!("warning: {w}");
    }
    let mut settings = resolved.settings;
    let progress = match args.progress.as_str() {
        "auto" => ProgressMode::Auto,
        "bar" => ProgressMode::Bar,
        "plain" => ProgressMode::Plain {
            interval: std::time::Duration::from_secs(10),
        },
        "none" | "quiet" => ProgressMode::Quiet,
        o => anyhow::bail!("invalid `--progress`: `{o}` (expected auto, bar, plain or none)"),
    };
    let dataset = match load(&settings.dataset, &settings.load_options()) {
        Ok(d) => d,
        // A --lang the source does not hold is an empty selection, like --level.
        Err(e @ anesbench_core::load::LoadError::Empty { .. }) if !settings.lang.is_empty() => {
            eprintln!("error: --lang selects no items: {e}");
            return Ok(ExitCode::from(exit::USAGE));
        }
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("cannot load dataset `{}`", settings.dataset)))
        }
    };
    for w in &dataset.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(msg) = empty_selection(&dataset.items, &settings) {
        eprintln!("error: {msg}");
        return Ok(ExitCode::from(exit::USAGE));
    }
    // Without --out the directory name carries a time stamp, so "the same command" would
    // start afresh: the resume hint names the directory.
    let resume = if settings.out.is_some() {
        "run the same command again".to_string()
    } else {
        "run the same command with --out DIR".to_string()
    };
    let rt = runtime()?;
    let result = rt.block_on(async move {
        let mut deps = anesbench_run::solver::SolverDeps::default();
        let backend = backend::build(&mut settings, &mut deps).await?;
        deps.scorer = backend::build_scorer(&mut settings).await?;
        let out = settings.out.clone().unwrap_or_else(|| default_out(&settings));
        eprintln!("run directory: {}", out.display());
        let resume = resume.replace("DIR", &shell_word(&out.to_string_lossy()));
        let mut req = RunRequest::new(settings, dataset, backend, out);
        req.progress = progress;
        req.stop = Some(stop_signal());
        req.rerun_changed_prompts = args.rerun_changed_prompts;
        req.solver_deps = deps;
        let outcome = execute(req).await?;
        print!("{}", anesbench_run::table::render(&outcome.summary));
        for w in &outcome.warnings {
            if w.contains("--max-tokens") {
                eprintln!("warning: {w}");
            }
        }
        if outcome.interrupted {
            eprintln!(
                "interrupted: {} kept the samples finished so far (the summary above covers only those); {resume} to resume",
                outcome.dir.display()
            );
            return Ok(ExitCode::from(exit::INTERRUPTED));
        }
        eprintln!(
            "wrote {} ({} samples run now, {} already done)",
            outcome.dir.display(),
            outcome.ran,
            outcome.skipped
        );
        if outcome.errors > 0 {
            eprintln!(
                "{} samples failed after their retries; {resume} to retry only those",
                outcome.errors
            );
            return Ok(ExitCode::from(exit::PARTIAL));
        }
        Ok(ExitCode::from(exit::SUCCESS))
    });
    // An interrupted embedded run may still have a llama.cpp decode running on a blocking
    // thread; its result is not wanted, so do not wait for it.
    rt.shutdown_background();
    result
}

/// The runtime `eval` runs on: one thread. The work of a run is waiting on servers (or on
/// the embedded engine's blocking thread); one thread drives thousands of requests in
/// flight, and on a few cores it spends less CPU per request than a multi-threaded
/// runtime, whose workers wake each other for every result (`bench http` measures it).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Ctrl-C or SIGTERM (a batch scheduler's time limit): stop starting samples and keep what
/// is done. Handlers are installed when the run starts; until then the default applies.
fn stop_signal() -> anesbench_run::runner::StopSignal {
    Box::pin(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    })
}

/// `runs/<model>-<dataset>-<UTC time>`, with anything but `[A-Za-z0-9._-]` replaced.
/// Why the language, level and shard filters leave no item, if they do.
fn empty_selection(items: &[anesbench_core::Item], s: &Settings) -> Option<String> {
    if !anesbench_run::select::select(items, s).is_empty() {
        return None;
    }
    let mut sel = Vec::new();
    if !s.lang.is_empty() {
        sel.push(format!(
            "--lang {}",
            s.lang
                .iter()
                .map(|l| l.code())
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
    if !s.level.is_empty() {
        sel.push(format!(
            "--level {}",
            s.level
                .iter()
                .map(|l| l.code().to_string())
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
    if s.shard.is_some() {
        sel.push("--shard".into());
    }
    let have: Vec<String> = anesbench_core::Lang::ALL
        .iter()
        .flat_map(|la| {
            anesbench_core::Level::ALL.iter().filter_map(move |le| {
                let n = items
                    .iter()
                    .filter(|i| i.lang == *la && i.level == *le)
                    .count();
                (n > 0).then(|| format!("{} {}: {n}", la.code(), le.name()))
            })
        })
        .collect();
    Some(format!(
        "{} selects no items of `{}` ({} items; {})",
        if sel.is_empty() {
            "the selection".to_string()
        } else {
            sel.join(" ")
        },
        s.dataset,
        items.len(),
        if have.is_empty() {
            "none".to_string()
        } else {
            have.join(", ")
        }
    ))
}

/// `s` quoted for a POSIX shell where it needs it.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn default_out(s: &Settings) -> PathBuf {
    let clean = |x: &str| -> String {
        x.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    let ds = std::path::Path::new(s.dataset.trim_start_matches("hf:"))
        .file_stem()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| s.dataset.clone());
    let stamp: String = anesbench_run::runner::now_rfc3339()
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect::<String>()
        .replace('T', "-");
    PathBuf::from("runs").join(format!(
        "{}-{}-{}",
        clean(&s.model_label()),
        clean(&ds),
        stamp
    ))
}
