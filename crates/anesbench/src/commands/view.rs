//! `anesbench view`: the read-only web viewer over run directories, its static export
//! and its benchmark. The work lives in `anesbench-view`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anesbench_view::{bench, export, Viewer};

use crate::exit;

#[derive(clap::Args)]
pub struct ViewArgs {
    /// Directories to serve; every run under them is found, recursively. Nothing outside
    /// them is served.
    #[arg(value_name = "DIR", default_value = "runs")]
    pub dirs: Vec<PathBuf>,
    /// Address to bind. Anything but loopback exposes every run to the network (warned).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to bind (0 picks a free one; the address is printed).
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// Write a self-contained static site to DIR instead of serving.
    #[arg(long, value_name = "DIR", conflicts_with = "bench")]
    pub export: Option<PathBuf>,
    /// Measure the viewer on a synthetic run (first page, filters, search, memory) against
    /// a naive reader; exits non-zero when a request misses the 1 s target.
    #[arg(long)]
    pub bench: bool,
    /// Samples in the synthetic `--bench` run.
    #[arg(long, default_value_t = 100_000, value_name = "N", requires = "bench")]
    pub bench_samples: usize,
    /// Keep the synthetic `--bench` run in DIR (default: a temporary folder, removed).
    #[arg(long, value_name = "DIR", requires = "bench")]
    pub bench_dir: Option<PathBuf>,
}

pub fn run(args: ViewArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if args.bench {
        let report = rt.block_on(bench::run(&bench::BenchOptions {
            samples: args.bench_samples,
            dir: args.bench_dir.clone(),
        }))?;
        print!("{}", report.to_text());
        return Ok(if report.passed() {
            ExitCode::SUCCESS
        } else {
            exit::FAILURE.into()
        });
    }
    let viewer = Arc::new(Viewer::new(&args.dirs)?);
    if let Some(out) = &args.export {
        let done = export::export(&viewer, out)?;
        println!(
            "exported {} run(s), {} files, to {} (open {}/index.html)",
            done.runs,
            done.files,
            out.display(),
            out.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if !anesbench_view::is_loopback(&args.host) {
        eprintln!(
            "warning: --host {} makes the viewer reachable from other machines: every run under {} is readable by anyone who can reach this port (there is no authentication)",
            args.host,
            args.dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    rt.block_on(async move {
        let n = viewer.registry.runs().len();
        let addr = anesbench_view::spawn(viewer, &args.host, args.port).await?;
        println!("anesbench view: {n} run(s), serving http://{addr}/ (read-only; Ctrl-C stops)");
        use std::io::Write;
        let _ = std::io::stdout().flush();
        tokio::signal::ctrl_c().await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
