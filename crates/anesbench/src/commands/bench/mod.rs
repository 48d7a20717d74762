//! `anesbench bench ...`: throughput figures against a named peer, measured in the same run.
//!
//! Every benchmark prints its target and whether this run met it, and exits non-zero
//! (status 1) when it did not, so a script or CI job can gate on it.

use std::process::ExitCode;

use crate::exit;

mod convert;
mod http;
mod llama;
mod solver;

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// The eval path (runner, extraction, run directory) against a local instant server,
    /// beside a Python `openai` client doing the study's loop with as many in flight.
    Http(http::BenchHttpArgs),
    /// Embedded backend throughput beside raw llama.cpp on the same model.
    Llama(llama::BenchLlamaArgs),
    /// Test-time compute on the embedded instruct model: `sc:8` batched vs sequential,
    /// 5-shot loglik with vs without the prefix cache, and (with `--llama-server`) both
    /// against upstream `llama-server -np 8`.
    Solver(solver::BenchSolverArgs),
    /// Corpus conversion and decontamination throughput beside a pandas reference.
    Convert(convert::BenchConvertArgs),
}

pub fn run(cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Http(a) => http::run(a),
        BenchCommand::Llama(a) => llama::run(a),
        BenchCommand::Solver(a) => solver::run(a),
        BenchCommand::Convert(a) => convert::run(a),
    }
}

/// Whether a run met its target; `NotChecked` when the peer was not measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Met,
    Missed,
    /// The figure the target needs was not measured (the reason is given).
    NotChecked(String),
}

impl Verdict {
    pub(crate) fn from_met(met: bool) -> Verdict {
        if met {
            Verdict::Met
        } else {
            Verdict::Missed
        }
    }

    /// Prints `target: <what>: met|MISSED|not checked (why)`.
    pub(crate) fn print(&self, target: &str) {
        match self {
            Verdict::Met => println!("target: {target}: met"),
            Verdict::Missed => println!("target: {target}: MISSED"),
            Verdict::NotChecked(why) => println!("target: {target}: not checked ({why})"),
        }
    }

    /// Success only when the target was met; a target that could not be checked because
    /// the user asked to skip the peer (`skipped`) is not a failure.
    pub(crate) fn exit_code(&self, skipped: bool) -> ExitCode {
        match self {
            Verdict::Met => ExitCode::SUCCESS,
            Verdict::NotChecked(_) if skipped => ExitCode::SUCCESS,
            _ => ExitCode::from(exit::FAILURE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_met_or_deliberately_skipped_target_succeeds() {
        assert_eq!(Verdict::Met.exit_code(false), ExitCode::SUCCESS);
        assert_eq!(
            Verdict::Missed.exit_code(true),
            ExitCode::from(exit::FAILURE)
        );
        let nc = Verdict::NotChecked("no peer".into());
        assert_eq!(nc.exit_code(true), ExitCode::SUCCESS);
        assert_eq!(nc.exit_code(false), ExitCode::from(exit::FAILURE));
        assert_eq!(Verdict::from_met(false), Verdict::Missed);
    }
}
