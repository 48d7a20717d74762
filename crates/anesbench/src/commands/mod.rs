//! One file per subcommand.

pub mod bench;
pub mod compare;
pub mod convert;
pub mod data;
pub mod decontam;
pub mod eval;
pub mod extract;
pub mod leaderboard;
pub mod merge;
pub mod report;
pub mod rescore;
pub mod train_config;
pub mod view;
