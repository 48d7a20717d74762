//! Progress on stderr: an indicatif bar (rate, ETA, running accuracy) when stderr is a
//! terminal, otherwise a plain line every few seconds, so logs of batch jobs stay readable.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::RunError;
use crate::event::{RunEvent, Sink};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Bar on a terminal, plain lines otherwise.
    Auto,
    Bar,
    /// A line at most every `interval`.
    Plain {
        interval: Duration,
    },
    Quiet,
}

impl ProgressMode {
    pub fn resolve(self) -> ProgressMode {
        match self {
            ProgressMode::Auto if std::io::stderr().is_terminal() => ProgressMode::Bar,
            ProgressMode::Auto => ProgressMode::Plain {
                interval: Duration::from_secs(10),
            },
            m => m,
        }
    }
}

pub struct ProgressSink {
    mode: ProgressMode,
    bar: Option<ProgressBar>,
    total: usize,
    done: usize,
    correct: usize,
    errors: usize,
    retries: usize,
    ran: usize,
    started: Instant,
    last_line: Instant,
}

impl ProgressSink {
    pub fn new(mode: ProgressMode) -> ProgressSink {
        ProgressSink {
            mode: mode.resolve(),
            bar: None,
            total: 0,
            done: 0,
            correct: 0,
            errors: 0,
            retries: 0,
            ran: 0,
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    fn accuracy(&self) -> f64 {
        if self.done == 0 {
            0.0
        } else {
            100.0 * self.correct as f64 / self.done as f64
        }
    }

    fn status(&self) -> String {
        format!(
            "acc {:.1}% | errors {} | retries {}",
            self.accuracy(),
            self.errors,
            self.retries
        )
    }

    fn plain_line(&self) -> String {
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 {
            self.ran as f64 / secs
        } else {
            0.0
        };
        let left = self.total.saturating_sub(self.done);
        let eta = if rate > 0.0 {
            format!("{:.0}s", left as f64 / rate)
        } else {
            "?".into()
        };
        format!(
            "progress: {}/{} samples, {rate:.1}/s, ETA {eta}, {}",
            self.done,
            self.total,
            self.status()
        )
    }

    fn say(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }
}

impl Sink for ProgressSink {
    fn event(&mut self, ev: &RunEvent<'_>) -> Result<(), RunError> {
        match ev {
            RunEvent::Start {
                total,
                done,
                correct_before,
            } => {
                self.total = *total;
                self.done = *done;
                self.correct = *correct_before;
                self.started = Instant::now();
                if *done > 0 {
                    self.say(&format!("resuming: {done} of {total} samples already done"));
                }
                if self.mode == ProgressMode::Bar {
                    let bar = ProgressBar::with_draw_target(
                        Some(*total as u64),
                        ProgressDrawTarget::stderr(),
                    );
                    let style = ProgressStyle::with_template(
                        "{bar:30.cyan/blue} {pos}/{len} {per_sec} ETA {eta} {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
                    bar.set_style(style);
                    bar.set_position(*done as u64);
                    bar.reset_eta();
                    self.bar = Some(bar);
                }
            }
            RunEvent::Retry { key, notice } => {
                self.retries += 1;
                if self.mode != ProgressMode::Quiet {
                    self.say(&format!(
                        "retry {} for {key} in {:.1}s: {}",
                        notice.retry,
                        notice.wait.as_secs_f64(),
                        notice.error
                    ));
                }
            }
            RunEvent::Sample(r) => {
                self.done += 1;
                self.ran += 1;
                self.correct += usize::from(r.correct);
                self.errors += usize::from(r.is_error());
                if let Some(b) = &self.bar {
                    b.set_message(self.status());
                    b.inc(1);
                }
                if let ProgressMode::Plain { interval } = self.mode {
                    if self.last_line.elapsed() >= interval {
                        self.last_line = Instant::now();
                        eprintln!("{}", self.plain_line());
                    }
                }
            }
            RunEvent::Warning(w) => {
                self.say(&format!("warning: {w}"));
            }
            RunEvent::Finish { elapsed } => {
                if let Some(b) = self.bar.take() {
                    b.finish_and_clear();
                }
                if self.mode != ProgressMode::Quiet {
                    eprintln!(
                        "done: {} samples run in {:.1}s, {}",
                        self.ran,
                        elapsed.as_secs_f64(),
                        self.status()
                    );
                }
            }
        }
        Ok(())
    }
}
