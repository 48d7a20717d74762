//! Exit codes, documented in the README.

/// Everything asked for was done.
pub const SUCCESS: u8 = 0;
/// The command could not do its work (bad input, unreachable server, I/O error).
pub const FAILURE: u8 = 1;
/// The run finished but some samples errored after their retries (`--resume` retries them),
/// or validation found bad records.
pub const PARTIAL: u8 = 3;
