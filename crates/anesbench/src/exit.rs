//! Exit codes, documented in the README.

/// Everything asked for was done.
pub const SUCCESS: u8 = 0;
/// The command could not do its work (bad input, unreachable server, I/O error).
pub const FAILURE: u8 = 1;
/// Bad command line (clap's own code for usage errors).
pub const USAGE: u8 = 2;
/// The run finished but some samples errored after their retries (`--resume` retries them),
/// or validation found bad records.
pub const PARTIAL: u8 = 3;
/// The run was stopped by Ctrl-C or SIGTERM; finished samples are kept and a rerun resumes.
/// (128 + SIGINT, as shells report a process killed by Ctrl-C.)
pub const INTERRUPTED: u8 = 130;
