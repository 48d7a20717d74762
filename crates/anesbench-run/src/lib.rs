//! Runner: resolved settings, scheduling with bounded concurrency and retries, the run
//! directory (manifest, samples, summary, lock), resume, sharding, merge and rescore.
//!
//! The binary resolves a [`Settings`], loads the dataset, builds a backend and calls
//! [`execute`]; everything a run writes goes through [`rundir`].

pub mod error;
pub mod event;
pub mod lock;
pub mod merge;
pub mod progress;
pub mod request;
pub mod rescore;
pub mod resolve;
pub mod retry;
pub mod rundir;
pub mod runner;
pub mod score;
pub mod select;
pub mod settings;
pub mod shard;
pub mod solver;
pub mod table;

pub use error::RunError;
pub use progress::ProgressMode;
pub use resolve::{resolve, Overrides, Resolved};
pub use retry::RetryPolicy;
pub use runner::{execute, RunOutcome, RunRequest};
pub use settings::{ApiStyle, BackendKind, ChatTemplate, Mode, Settings};
pub use shard::Shard;
