//! Reports (Markdown, HTML, CSV, JSON), figures, leaderboard and paired comparison.
//!
//! Inputs are run directories ([`rundir::RunDir`]); everything is recomputed from
//! `samples.jsonl` where it exists.

pub mod analysis;
pub mod error;
pub mod label;
pub mod model;
pub mod plots;
pub mod points;
pub mod published;
pub mod rundir;
pub mod size;
pub mod stats;
pub mod status;

pub use error::{ReportError, Result};
pub use model::Report;
pub use rundir::RunDir;
pub mod compare;
pub mod compute;
pub mod fixture;
pub mod formats;
pub mod leaderboard;
pub mod write;
