//! Core of anesbench: the benchmark item model, loaders and validation, the built-in demo
//! set, prompt rendering, answer extraction, per-sample records and their summary
//! statistics. Nothing here touches the network or spawns threads.

pub mod analysis;
pub mod demo;
pub mod extract;
pub mod item;
pub mod load;
pub mod loglik;
pub mod manifest;
pub mod permute;
pub mod prompt;
pub mod record;
pub mod rundir;
pub mod size;
pub mod stats;
pub mod summary;
pub mod vote;

pub use item::{Item, Lang, Level};
pub use record::SampleRecord;
pub use summary::Summary;
