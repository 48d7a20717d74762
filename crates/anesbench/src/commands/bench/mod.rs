//! `anesbench bench ...`: throughput figures against a named peer, measured in the same run.

use std::process::ExitCode;

mod convert;
mod http;
mod llama;

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Harness overhead against a local instant server, beside a Python `openai` client.
    Http(http::BenchHttpArgs),
    /// Embedded backend throughput beside raw llama.cpp on the same model.
    Llama(llama::BenchLlamaArgs),
    /// Corpus conversion and decontamination throughput beside a pandas reference.
    Convert(convert::BenchConvertArgs),
}

pub fn run(cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Http(a) => http::run(a),
        BenchCommand::Llama(a) => llama::run(a),
        BenchCommand::Convert(a) => convert::run(a),
    }
}
