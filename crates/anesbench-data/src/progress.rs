//! Progress on stderr: an indicatif bar when stderr is a terminal, otherwise a plain line
//! every few seconds (logs and CI stay readable).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    label: String,
    bar: Option<ProgressBar>,
    start: Instant,
    last_line: Instant,
    every: Duration,
    rows: u64,
    bytes: u64,
    quiet: bool,
}

impl Progress {
    /// `total_rows`: known from Parquet footers; `None` shows a spinner.
    pub fn new(label: &str, total_rows: Option<u64>, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = match total_rows {
                Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr())
                    .with_style(
                    ProgressStyle::with_template(
                        "{prefix} [{bar:30}] {human_pos}/{human_len} rows {per_sec} ({eta}) {msg}",
                    )
                    .expect("static template")
                    .progress_chars("=> "),
                ),
                None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                    .with_style(
                        ProgressStyle::with_template(
                            "{prefix} {spinner} {human_pos} rows {per_sec} {msg}",
                        )
                        .expect("static template"),
                    ),
            };
            bar.set_prefix(label.to_string());
            bar
        });
        let now = Instant::now();
        Progress {
            label: label.into(),
            bar,
            start: now,
            last_line: now,
            every: Duration::from_secs(5),
            rows: 0,
            bytes: 0,
            quiet,
        }
    }

    pub fn inc(&mut self, rows: u64, bytes: u64) {
        self.rows += rows;
        self.bytes += bytes;
        if let Some(bar) = &self.bar {
            bar.inc(rows);
            bar.set_message(format!("{:.0} MB", self.bytes as f64 / 1e6));
        } else if !self.quiet && self.last_line.elapsed() >= self.every {
            self.last_line = Instant::now();
            let secs = self.start.elapsed().as_secs_f64().max(1e-9);
            eprintln!(
                "{}: {} rows, {:.0} MB read ({:.0} rows/s, {:.1} MB/s)",
                self.label,
                self.rows,
                self.bytes as f64 / 1e6,
                self.rows as f64 / secs,
                self.bytes as f64 / 1e6 / secs
            );
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
