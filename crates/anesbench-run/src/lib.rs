//! Runner: scheduling, bounded concurrency, retries, solvers, run directory, resume, sharding, merge.
