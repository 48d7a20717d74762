//! Training-data toolkit: AnesCorpus / AnesQA / AnesR1 files (Parquet, JSONL, JSON) to
//! LLaMA-Factory datasets with bounded memory, benchmark decontamination by n-gram overlap,
//! LLaMA-Factory training configs, and a synthetic corpus for benchmarks.
//!
//! Every reader streams: Parquet row group by row group in batches of a fixed row count,
//! JSONL line by line, JSON arrays element by element. Nothing holds a whole file.

pub mod convert;
mod corpus_fast;
pub mod dataset_info;
pub mod decontam;
pub mod error;
pub mod formats;
pub mod json_escape;
pub mod ngram;
pub mod progress;
pub mod reader;
pub mod rusage;
pub mod split;
pub mod synth;
pub mod train_config;
pub mod writer;

pub use error::DataError;
